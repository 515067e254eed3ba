// One host's guarded deploy over SSH (promise 12), the HostDeployer a fleet loops over: check
// the host key and find node (one connection), ship the bundle if this version is not there,
// upload the release, start the detached run, follow its log to the end (reconnecting after a
// drop), and read its result. The deploy itself is the host's run(), unchanged.
import * as core from '@actions/core'
import { isUserError, messageOf } from '../core/errors.js'
import type { DeployResult } from '../core/report-schema.js'
import { SKIP_MIGRATE_INPUT } from '../core/internal-inputs.js'
import { FLEET_ROLLBACK_INPUT } from '../core/rollout.js'
import { classifySshFailure, knownHostsCover, sshFailureMessage, type KnownHostsLine } from '../core/ssh.js'
import { CACHE_DIR, INSTALLER, packBundle, type Bundle } from './bundle.js'
import type { HostDeployer, HostOutcome, HostPurpose, HostSpec } from './host.js'
import { FrameReader, type CancelAnswer, type HostRunResult, type StartAnswer, type StartPayload } from './protocol.js'
import { LogRelay, type HostLog } from './relay.js'
import { nodeCommand, parseProbe, probeCommand, type Probe } from './scripts.js'
import type { SshResult, SshTransport } from './ssh.js'
import { uploadRelease } from './upload.js'
import { printLine, warn } from '../shell/print.js'

/** What one host's stream has delivered so far. */
interface Stream {
  offset: number
  result: HostRunResult | null
  run: HostRun | null
}

/** A run started on a host: what the post step needs to collect it. */
export interface HostRun {
  label: string
  runDir: string
  node: string
  agent: string
}

export interface DeployerOptions {
  transport: SshTransport
  knownHosts: readonly KnownHostsLine[]
  bundle: () => Bundle
  /** The deploy inputs for the host's run(), by action.yml name. */
  inputs: Record<string, string>
  upload: string | null
  tag: string
  metadata: Record<string, string>
  /** Called as soon as a host's run has started (the main step saves it for the post step). */
  onStarted?: (run: HostRun) => void
  /** How long a host may stay unreachable before the job gives up on it. */
  reconnectMs: number
  /** Where the host's log goes (default: the job log as it arrives; a fleet's batch holds it per host). */
  log?: HostLog
}

const SHORT_MS = 60_000
/** One follow connection lasts at most this long; the next one continues at the same byte. */
const FOLLOW_MS = 30 * 60_000
const MIN_NODE_MAJOR = 20

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Thrown for a host that cannot be deployed before anything on it changed: ends `aborted`. */
class HostRefused extends Error {
  constructor(
    message: string,
    readonly title: string,
    readonly reached: boolean
  ) {
    super(message)
  }
}

export class SshHostDeployer implements HostDeployer {
  /** The run being followed, and whether a cancel reached it. */
  private active: HostRun | null = null
  private host: HostSpec | null = null
  private cancelled: CancelAnswer['state'] | 'before-start' | null = null
  /** Bundle bytes sent to hosts by this job (0 when every host had this version). */
  bundleBytesSent = 0

  constructor(private readonly o: DeployerOptions) {}

  async deploy(host: HostSpec, purpose: HostPurpose): Promise<HostOutcome> {
    const t0 = Date.now()
    this.host = host
    try {
      if (!knownHostsCover(this.o.knownHosts, host.host, host.port)) {
        const name = host.port === 22 ? host.host : `[${host.host}]:${host.port}`
        throw new HostRefused(
          `${host.label}: ssh-known-hosts has no line for ${name}, so the action will not connect (host keys are always verified). Fix: run \`ssh-keyscan -p ${host.port} ${host.host}\` from a trusted machine, check the fingerprint, and add the line for ${name} to ssh-known-hosts.`,
          'Host key not known',
          false
        )
      }
      // A fleet rollback (promise 13) deploys the release the host ran before, and its records on the host say why.
      // On a fleet, `migrate` runs on the first host only (promise 15): the others are told to skip it.
      const inputs =
        purpose.kind === 'fleet-rollback'
          ? { ...this.o.inputs, 'release-dir': purpose.release, [FLEET_ROLLBACK_INPUT]: purpose.reason }
          : purpose.skipMigrate
            ? { ...this.o.inputs, [SKIP_MIGRATE_INPUT]: 'true' }
            : this.o.inputs
      const payload: StartPayload = { tag: this.o.tag, inputs, env: this.o.metadata }
      const upload = this.o.upload && purpose.kind === 'deploy' ? this.o.upload : null
      // Without an upload, the probe starts the run itself when this bundle is there: one connection round less.
      const first = await this.probe(host, upload ? null : payload, t0)
      if ('outcome' in first) return await first.outcome
      const probe = first.probe
      const agent = await this.ensureBundle(host, probe)
      this.checkCancel()
      if (upload) await uploadRelease(this.o.transport, host, probe.node, agent, upload, this.o.inputs)
      this.checkCancel()
      return await this.start(host, probe, agent, payload, t0)
    } catch (err) {
      if (!(err instanceof HostRefused) && !isUserError(err)) throw err
      const refused = err instanceof HostRefused ? err : new HostRefused(err.message, 'Remote deploy refused', true)
      core.error(refused.message, { title: refused.title })
      return { host, result: 'aborted', reached: refused.reached, switched: false, release: null, previous: null, report: null, message: refused.message, ms: Date.now() - t0, outputs: {}, summary: '' }
    } finally {
      this.active = null
      this.host = null
    }
  }

  private checkCancel(): void {
    if (this.cancelled) throw new HostRefused(`${this.host?.label}: the job was cancelled before the deploy started on the host: nothing on it was changed.`, 'Deploy cancelled', true)
  }

  /** A command whose exit 255 is a connection that did not work: before anything changed, so `aborted`. */
  private async mustRun(host: HostSpec, command: string, input?: Buffer | string): Promise<SshResult> {
    const r = await this.o.transport.run(host, command, { input, timeoutMs: SHORT_MS })
    this.refuseTransport(host, r)
    return r
  }

  /**
   * The first connection (host key checked here): the node to use, the user's home, whether this
   * bundle is there. With a payload, the host starts the run right after the probe when it can,
   * and this connection follows it: the outcome comes back instead of the probe.
   */
  private async probe(host: HostSpec, payload: StartPayload | null, t0: number): Promise<{ probe: Probe } | { outcome: Promise<HostOutcome> | HostOutcome }> {
    const hash = this.o.bundle().hash
    const relay = new LogRelay(this.o.log)
    const stream: Stream = { offset: 0, result: null, run: null }
    let head = Buffer.alloc(0)
    let reader: FrameReader | null = null
    let probe: Probe | null = null
    const onStdout = (c: Buffer) => {
      if (reader) return reader.feed(c)
      head = Buffer.concat([head, c])
      const at = head.indexOf('\n--\n')
      if (at < 0) return
      probe = parseProbe(head.subarray(0, at).toString())
      const p = probe
      reader = this.reader(stream, relay, (answer) => {
        this.sayProbe(host, { ...p, node: answer.node, version: answer.version })
        this.started(host, stream, { label: host.label, runDir: answer.runDir, node: answer.node, agent: this.agentPath(p) })
      })
      reader.feed(head.subarray(at + 4))
    }
    const input = `${this.o.inputs['pm2-home'] ?? ''}\n${payload ? JSON.stringify(payload) : ''}`
    const r = await this.o.transport.run(host, probeCommand(hash, payload !== null), { input, timeoutMs: payload ? FOLLOW_MS : SHORT_MS, onStdout })
    if (stream.run) return { outcome: this.finishFollow(host, stream.run, stream, relay, t0, r) }
    this.refuseTransport(host, r)
    if (r.code === 254) throw new HostRefused(`${host.label}: the action could not start on the host: ${r.stderr}`, 'Remote deploy not started', true)
    const found: Probe = probe ?? parseProbe(head.toString())
    if (r.code !== 0 || !found.home) throw new HostRefused(`${host.label}: the host's shell failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`, 'Remote host not usable', true)
    if (!found.node) {
      throw new HostRefused(
        `${host.label}: no node found for ${host.user}: no PM2 daemon of ${host.user} runs at ${found.pm2Home} (its pm2.pid names the node it runs), and a login shell's PATH has no \`node\`. ` +
          'Fix: start the PM2 daemon as the SSH user (ssh-user must be the user who owns it), set pm2-home to its PM2_HOME, or install node where a login shell finds it.',
        'No node on the host',
        true
      )
    }
    if (Number(found.version.replace(/^v/, '').split('.')[0]) < MIN_NODE_MAJOR) {
      throw new HostRefused(`${host.label}: ${found.node} is node ${found.version || '(unknown version)'}; the action needs node ${MIN_NODE_MAJOR} or newer on the host. Fix: run the PM2 daemon with a newer node, or put one first on a login shell's PATH.`, 'Node too old on the host', true)
    }
    return { probe: found }
  }

  private sayProbe(host: HostSpec, p: Probe): void {
    printLine(`${host.label}: node ${p.node} ${p.version} (${p.from === 'daemon' ? "the PM2 daemon's" : "a login shell's"}), home ${p.home}`)
    if (p.bundlePresent) printLine(`${host.label}: the action's bundle ${this.o.bundle().hash.slice(0, 12)} is already there (0 bytes sent)`)
  }

  private agentPath(p: Probe): string {
    return `${p.home}/${CACHE_DIR}/${this.o.bundle().hash}/host/index.js`
  }

  /** An exit 255 before the run started: the connection did not work, nothing changed (`aborted`). */
  private refuseTransport(host: HostSpec, r: SshResult): void {
    if (r.code !== 255 && !r.timedOut) return
    const kind = r.timedOut ? 'unreachable' : classifySshFailure(r.stderr)
    const title = kind.startsWith('host-key') ? 'Host key verification failed' : 'SSH connection failed'
    throw new HostRefused(sshFailureMessage(kind, host.label, host, r.timedOut ? 'no answer in time' : r.stderr), title, false)
  }

  private started(host: HostSpec, stream: Stream, run: HostRun): void {
    stream.run = run
    this.active = run
    this.o.onStarted?.(run)
    // A cancel that came while the probe was starting this run: stop it now, before its switch.
    if (this.cancelled === 'before-start') void this.cancel().then((m) => printLine(m))
    printLine(`${host.label}: the deploy runs on the host, detached from this connection (its log and result: ${run.runDir})`)
  }

  /** The bundle in ~/.cache/pm2-safe-deploy/<sha256>/, shipped once per version and verified on the host. */
  private async ensureBundle(host: HostSpec, probe: Probe): Promise<string> {
    const b = this.o.bundle()
    const agent = this.agentPath(probe)
    this.sayProbe(host, probe)
    if (probe.bundlePresent) return agent
    const pack = packBundle(b)
    const r = await this.mustRun(host, nodeCommand(probe.node, ['-e', INSTALLER]), pack)
    if (r.code !== 0) throw new HostRefused(`${host.label}: the action's bundle could not be installed in ~/${CACHE_DIR}/: ${r.stderr.trim().slice(-500)}`, 'Bundle not installed', true)
    this.bundleBytesSent += pack.length
    printLine(`${host.label}: sent the action's bundle ${b.hash.slice(0, 12)} (${pack.length} bytes, sha256 verified on the host)`)
    return agent
  }

  /** Starts the detached run and follows it on the same connection (start answers, then streams the log and the result). */
  private async start(host: HostSpec, probe: Probe, agent: string, payload: StartPayload, t0: number): Promise<HostOutcome> {
    const relay = new LogRelay(this.o.log)
    const stream: Stream = { offset: 0, result: null, run: null }
    const reader = this.reader(stream, relay, (answer) => this.started(host, stream, { label: host.label, runDir: answer.runDir, node: probe.node, agent }))
    const r = await this.o.transport.run(host, nodeCommand(probe.node, [agent, 'start']), { input: JSON.stringify(payload), timeoutMs: FOLLOW_MS, onStdout: (c) => reader.feed(c) })
    if (!stream.run) {
      if (r.code === 255 || r.timedOut) {
        const kind = r.timedOut ? 'unreachable' : classifySshFailure(r.stderr)
        throw new HostRefused(`${sshFailureMessage(kind, host.label, host, r.stderr)} The connection dropped as the deploy was being started: check the host's audit log before deploying again.`, 'SSH connection failed', true)
      }
      throw new HostRefused(`${host.label}: the deploy could not be started on the host (exit ${r.code}): ${r.stderr.trim().slice(-500)}`, 'Remote deploy not started', true)
    }
    return this.finishFollow(host, stream.run, stream, relay, t0, r)
  }

  private reader(stream: Stream, relay: LogRelay, onStart: (a: StartAnswer) => void = () => undefined): FrameReader {
    return new FrameReader({
      start: onStart,
      log: (b) => {
        stream.offset += b.length
        relay.feed(b)
      },
      result: (res) => (stream.result = res)
    })
  }

  /** Follows a started run's log to its end (reconnecting after drops), then reads its result. The post step calls this too. */
  async collect(host: HostSpec, run: HostRun, t0 = Date.now()): Promise<HostOutcome> {
    this.active = run
    this.host = host
    const relay = new LogRelay(this.o.log)
    const stream: Stream = { offset: 0, result: null, run }
    return this.finishFollow(host, run, stream, relay, t0, null)
  }

  /** After the first stream (or none): follow again from the byte reached until the result frame, or give up after reconnectMs. */
  private async finishFollow(host: HostSpec, run: HostRun, stream: Stream, relay: LogRelay, t0: number, first: SshResult | null): Promise<HostOutcome> {
    let lostSince: number | null = null
    let why = ''
    let last = first
    for (let attempt = 0; !stream.result; attempt++) {
      if (last && last.code !== 255 && !last.timedOut && last.code !== 0) throw new Error(`${host.label}: following the host's run failed (exit ${last.code}): ${last.stderr.trim().slice(-300)}`)
      if (last && (last.code === 255 || last.timedOut)) {
        why = last.timedOut ? 'no end within 30 min' : last.stderr.trim().split('\n').pop() || 'connection lost'
        if (lostSince === null) {
          lostSince = Date.now()
          warn(`${host.label}: the connection dropped (${why}); the deploy on the host goes on (it is detached). Reconnecting…`)
        } else if (Date.now() - lostSince > this.o.reconnectMs) return this.unreachable(host, run, relay, why, t0)
        await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)))
      }
      const reader = this.reader(stream, relay)
      const from = stream.offset
      last = await this.o.transport.run(host, nodeCommand(run.node, [run.agent, 'follow', run.runDir, String(from)]), { timeoutMs: FOLLOW_MS, onStdout: (c) => reader.feed(c) })
      if (lostSince !== null && last.code === 0) printLine(`${host.label}: reconnected; the host's log continues from byte ${from}.`)
    }
    relay.end()
    return this.outcomeOf(host, stream.result, relay, t0)
  }

  private unreachable(host: HostSpec, run: HostRun, relay: LogRelay, why: string, t0: number): HostOutcome {
    relay.end()
    const how = relay.lastPhase ? `it had reached the phase "${relay.lastPhase}"` : 'it had not reported a phase yet'
    const message =
      `${host.label}: the host stayed unreachable for ${Math.round(this.o.reconnectMs / 1000)} s (${why}); ${how}. The deploy there goes on without this job: ` +
      `its log, outputs and report are in ${run.runDir} on the host, and its audit log records the result.`
    core.error(message, { title: 'Remote host unreachable' })
    return { host, result: 'failed', reached: true, switched: false, release: null, previous: null, report: null, message, ms: Date.now() - t0, outputs: {}, summary: '' }
  }

  private outcomeOf(host: HostSpec, res: HostRunResult, relay: LogRelay, t0: number): HostOutcome {
    const RESULTS: readonly DeployResult[] = ['deployed', 'dry-run', 'aborted', 'failed', 'rolled-back']
    const stated = RESULTS.find((r) => r === res.outputs.result)
    const changed = res.releaseSwitch !== null || res.commandsStarted > 0
    const result: DeployResult = stated ?? (changed ? 'failed' : 'aborted')
    const last = relay.annotations.filter((a) => a.kind === 'error').pop()?.message
    let message = `${host.label}: ${result}${last ? `: ${last}` : ''}`
    if (!stated) {
      const how = res.main?.signal ? `was killed by ${res.main.signal}` : `ended with exit code ${res.main?.code ?? '?'}`
      message = `${host.label}: the deploy on the host ${how} before it reported a result (${changed ? 'after it had changed PM2 or the release link: check the app' : 'before any change'}).`
      core.error(message, { title: result === 'aborted' ? 'Remote deploy stopped' : 'Remote deploy failed' })
    }
    const rel = res.release
    return {
      host,
      result,
      reached: true,
      switched: rel ? rel.switched && !rel.rolledBack : false,
      release: rel?.live ?? (res.outputs.release || null),
      previous: rel?.previous ?? res.releaseSwitch?.previous ?? null,
      report: res.outputs.report || null,
      message,
      ms: Date.now() - t0,
      outputs: res.outputs,
      summary: res.summary
    }
  }

  /** A cancel of the job: before the host's run starts nothing is sent; before its release switch it is stopped; after it, left to finish. */
  async cancel(): Promise<string> {
    const run = this.active
    const host = this.host
    if (!run || !host) {
      this.cancelled = 'before-start'
      return 'The job was cancelled before the deploy started on the host: nothing there was changed.'
    }
    try {
      const r = await this.o.transport.run(host, nodeCommand(run.node, [run.agent, 'cancel', run.runDir]), { timeoutMs: 5000 })
      const answer = JSON.parse(r.stdout.toString()) as CancelAnswer
      this.cancelled = answer.state
      if (answer.state === 'stopped') return `${host.label}: cancelled before the release switch: the host's deploy was stopped (it releases its lock and records the attempt).`
      if (answer.state === 'past-switch') {
        return `${host.label}: the job was cancelled after the host switched the release (or sent pm2 commands): the host finishes its verification, or its rollback, on its own; this job reports which if it can (else the post step does, and the host's audit log records it).`
      }
      return `${host.label}: the deploy on the host had already finished.`
    } catch (err) {
      return `${host.label}: the cancel could not reach the host (${messageOf(err)}): the deploy there goes on and its audit log records the result.`
    }
  }
}

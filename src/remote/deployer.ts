// One host's guarded deploy over SSH (promise 12), the HostDeployer a fleet loops over: check
// the host key and find node (one connection), ship the bundle if this version is not there,
// upload the release, start the detached run, follow its log to the end (reconnecting after a
// drop), and read its result. The deploy itself is the host's run(), unchanged.
import * as core from '@actions/core'
import { isUserError, messageOf } from '../core/errors.js'
import type { DeployResult } from '../core/report-schema.js'
import { FLEET_ROLLBACK_INPUT } from '../core/rollout.js'
import { classifySshFailure, knownHostsCover, sshFailureMessage, type KnownHostsLine } from '../core/ssh.js'
import { CACHE_DIR, INSTALLER, packBundle, type Bundle } from './bundle.js'
import type { HostDeployer, HostOutcome, HostPurpose, HostSpec } from './host.js'
import type { CancelAnswer, HostRunResult, StartAnswer, StartPayload } from './protocol.js'
import { LogRelay } from './relay.js'
import { nodeCommand, parseProbe, probeCommand, type Probe } from './scripts.js'
import type { SshResult, SshTransport } from './ssh.js'
import { uploadRelease } from './upload.js'

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
      const probe = await this.probe(host)
      const agent = await this.ensureBundle(host, probe)
      this.checkCancel()
      if (this.o.upload && purpose.kind === 'deploy') await uploadRelease(this.o.transport, host, probe.node, agent, this.o.upload, this.o.inputs)
      this.checkCancel()
      // A fleet rollback (promise 13) deploys the release the host ran before, and its records on the host say why.
      const inputs = purpose.kind === 'fleet-rollback' ? { ...this.o.inputs, 'release-dir': purpose.release, [FLEET_ROLLBACK_INPUT]: purpose.reason } : this.o.inputs
      const run = await this.start(host, probe, agent, inputs)
      return await this.collect(host, run, t0)
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
    if (r.code === 255 || r.timedOut) {
      const kind = r.timedOut ? 'unreachable' : classifySshFailure(r.stderr)
      const title = kind.startsWith('host-key') ? 'Host key verification failed' : 'SSH connection failed'
      throw new HostRefused(sshFailureMessage(kind, host.label, host, r.timedOut ? 'no answer within 60 s' : r.stderr), title, false)
    }
    return r
  }

  /** The first connection (host key checked here): the node to use, the user's home, whether this bundle is there. */
  private async probe(host: HostSpec): Promise<Probe> {
    const r = await this.mustRun(host, probeCommand(this.o.bundle().hash), `${this.o.inputs['pm2-home'] ?? ''}\n`)
    const probe = parseProbe(r.stdout.toString())
    if (r.code !== 0 || !probe.home) throw new HostRefused(`${host.label}: the host's shell failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`, 'Remote host not usable', true)
    if (!probe.node) {
      throw new HostRefused(
        `${host.label}: no node found for ${host.user}: no PM2 daemon of ${host.user} runs at ${probe.pm2Home} (its pm2.pid names the node it runs), and a login shell's PATH has no \`node\`. ` +
          'Fix: start the PM2 daemon as the SSH user (ssh-user must be the user who owns it), set pm2-home to its PM2_HOME, or install node where a login shell finds it.',
        'No node on the host',
        true
      )
    }
    if (Number(probe.version.replace(/^v/, '').split('.')[0]) < MIN_NODE_MAJOR) {
      throw new HostRefused(`${host.label}: ${probe.node} is node ${probe.version || '(unknown version)'}; the action needs node ${MIN_NODE_MAJOR} or newer on the host. Fix: run the PM2 daemon with a newer node, or put one first on a login shell's PATH.`, 'Node too old on the host', true)
    }
    core.info(`${host.label}: node ${probe.node} ${probe.version} (${probe.from === 'daemon' ? "the PM2 daemon's" : "a login shell's"}), home ${probe.home}`)
    return probe
  }

  /** The bundle in ~/.cache/pm2-safe-deploy/<sha256>/, shipped once per version and verified on the host. */
  private async ensureBundle(host: HostSpec, probe: Probe): Promise<string> {
    const b = this.o.bundle()
    const agent = `${probe.home}/${CACHE_DIR}/${b.hash}/host/index.js`
    if (probe.bundlePresent) {
      core.info(`${host.label}: the action's bundle ${b.hash.slice(0, 12)} is already there (0 bytes sent)`)
      return agent
    }
    const pack = packBundle(b)
    const r = await this.mustRun(host, nodeCommand(probe.node, ['-e', INSTALLER]), pack)
    if (r.code !== 0) throw new HostRefused(`${host.label}: the action's bundle could not be installed in ~/${CACHE_DIR}/: ${r.stderr.trim().slice(-500)}`, 'Bundle not installed', true)
    this.bundleBytesSent += pack.length
    core.info(`${host.label}: sent the action's bundle ${b.hash.slice(0, 12)} (${pack.length} bytes, sha256 verified on the host)`)
    return agent
  }

  private async start(host: HostSpec, probe: Probe, agent: string, inputs: Record<string, string>): Promise<HostRun> {
    const payload: StartPayload = { tag: this.o.tag, inputs, env: this.o.metadata }
    const r = await this.mustRun(host, nodeCommand(probe.node, [agent, 'start']), JSON.stringify(payload))
    if (r.code !== 0) throw new HostRefused(`${host.label}: the deploy could not be started on the host: ${r.stderr.trim().slice(-500)}`, 'Remote deploy not started', true)
    const answer = JSON.parse(r.stdout.toString()) as StartAnswer
    const run: HostRun = { label: host.label, runDir: answer.runDir, node: probe.node, agent }
    core.info(`${host.label}: the deploy runs on the host, detached from this connection (its log and result: ${answer.runDir})`)
    this.active = run
    this.o.onStarted?.(run)
    return run
  }

  /** Follows a started run's log to its end (reconnecting after drops), then reads its result. The post step calls this too. */
  async collect(host: HostSpec, run: HostRun, t0 = Date.now(), relay = new LogRelay()): Promise<HostOutcome> {
    this.active = run
    this.host = host
    const lost = await this.follow(host, run, relay)
    relay.end()
    if (lost) {
      const how = relay.lastPhase ? `it had reached the phase "${relay.lastPhase}"` : 'it had not reported a phase yet'
      const message =
        `${host.label}: the host stayed unreachable for ${Math.round(this.o.reconnectMs / 1000)} s (${lost}); ${how}. The deploy there goes on without this job: ` +
        `its log, outputs and report are in ${run.runDir} on the host, and its audit log records the result.`
      core.error(message, { title: 'Remote host unreachable' })
      return { host, result: 'failed', reached: true, switched: false, release: null, previous: null, report: null, message, ms: Date.now() - t0, outputs: {}, summary: '' }
    }
    const res = await this.result(host, run)
    return this.outcomeOf(host, res, relay, t0)
  }

  /** Streams the log from the last byte seen; a drop (exit 255) is retried until reconnectMs. Returns why it gave up, or null. */
  private async follow(host: HostSpec, run: HostRun, relay: LogRelay): Promise<string | null> {
    let offset = 0
    let lostSince: number | null = null
    let why = ''
    for (let attempt = 0; ; attempt++) {
      const r = await this.o.transport.run(host, nodeCommand(run.node, [run.agent, 'follow', run.runDir, String(offset)]), {
        timeoutMs: FOLLOW_MS,
        onStdout: (chunk) => {
          offset += chunk.length
          relay.feed(chunk)
        }
      })
      if (r.code === 0) {
        if (lostSince !== null) core.info(`${host.label}: reconnected; the host's log continues from byte ${offset}.`)
        return null
      }
      if (r.code !== 255 && !r.timedOut) throw new Error(`${host.label}: following the host's run failed (exit ${r.code}): ${r.stderr.trim().slice(-300)}`)
      why = r.timedOut ? 'no end within 30 min' : r.stderr.trim().split('\n').pop() || 'connection lost'
      if (lostSince === null) {
        lostSince = Date.now()
        core.warning(`${host.label}: the connection dropped (${why}); the deploy on the host goes on (it is detached). Reconnecting…`)
      } else if (Date.now() - lostSince > this.o.reconnectMs) return why
      await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)))
    }
  }

  private async result(host: HostSpec, run: HostRun): Promise<HostRunResult> {
    for (let i = 0; ; i++) {
      const r = await this.o.transport.run(host, nodeCommand(run.node, [run.agent, 'result', run.runDir]), { timeoutMs: SHORT_MS })
      if (r.code === 0) return JSON.parse(r.stdout.toString()) as HostRunResult
      if (i >= 5) throw new Error(`${host.label}: could not read the host's result (exit ${r.code}): ${r.stderr.trim().slice(-300)}`)
      await sleep(1000)
    }
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

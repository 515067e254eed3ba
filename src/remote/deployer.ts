// One host's guarded deploy over SSH (promise 12), the HostDeployer a fleet loops over: check
// the host key and find node (one connection), ship the bundle if this version is not there,
// upload the release, start the detached run, follow its log to the end (reconnecting after a
// drop), and read its result. The deploy itself is the host's run(), unchanged.
import crypto from 'node:crypto'
import * as core from '@actions/core'
import { isUserError, messageOf } from '../core/errors.js'
import { SKIP_MIGRATE_INPUT, STAGED_UPLOAD_INPUT, UPLOAD_SKIPPED_INPUT } from '../core/internal-inputs.js'
import type { DeployResult } from '../core/report-schema.js'
import { FLEET_ROLLBACK_INPUT } from '../core/rollout.js'
import { classifySshFailure, KEEPALIVE, knownHostsCover, knownHostsName, sshFailureMessage, type KnownHostsLine, type SshAddress } from '../core/ssh.js'
import { BUNDLE_DAMAGED_EXIT, CACHE_DIR, INSTALLER, packBundle, verifiedAgentArgs, type Bundle } from './bundle.js'
import type { HostDeployer, HostOutcome, HostPurpose, HostSpec } from './host.js'
import { FrameReader, type CancelAnswer, type ClaimAnswer, type HostRunResult, type StartAnswer, type StartPayload } from './protocol.js'
import { LogRelay, type HostLog } from './relay.js'
import { nodeCommand, parseProbe, probeCommand, type Probe } from './scripts.js'
import type { RunOptions, SshResult } from './ssh.js'
import { uploadRelease, type UploadOptions } from './upload.js'
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

/** What the deployer needs of the transport (SshTransport; a fake one in unit tests). */
export interface Transport {
  run(host: HostSpec, remoteCommand: string, opts: RunOptions): Promise<SshResult>
}

export interface DeployerOptions {
  transport: Transport
  knownHosts: readonly KnownHostsLine[]
  /** `ssh-jump`, whose key ssh-known-hosts must hold as well. */
  jump?: SshAddress | null
  bundle: () => Bundle
  /** The deploy inputs for the host's run(), by action.yml name. */
  inputs: Record<string, string>
  upload: string | null
  /** `upload-exclude` patterns (GNU tar --exclude). */
  uploadExclude?: readonly string[]
  /** The `ssh-env` variables and their values, sent to each host on stdin with the inputs. */
  stepEnv?: Record<string, string>
  tag: string
  metadata: Record<string, string>
  /** Called as soon as a host's run has started (the main step saves it for the post step). */
  onStarted?: (run: HostRun) => void
  /** How long a host may stay unreachable before the job gives up on it. */
  reconnectMs: number
  /** The wait before reconnect attempt n (tests shorten it); by default 0.5 s doubling to 5 s. */
  backoff?: (attempt: number) => number
  /** Where the host's log goes (default: the job log as it arrives; a fleet's batch holds it per host). */
  log?: HostLog
}

const SHORT_MS = 60_000
/** One follow connection lasts at most this long; the next one continues at the same byte. */
const FOLLOW_MS = 30 * 60_000
const MIN_NODE_MAJOR = 20
/** The probe's key=value header: a host (or a shell rc file that prints) cannot make the runner buffer more. */
const PROBE_HEAD_LIMIT = 16 * 1024
/** A cancel forwarded to the host: the agent waits up to 8 s for the signalled run to end. */
const CANCEL_MS = 15_000

/** The run directory's name, chosen here so the runner can find or claim the run when the start's answer is lost. */
export function runName(tag: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  return `${stamp}-${tag.replace(/[^\w.-]/g, '_').slice(0, 80)}-${crypto.randomBytes(6).toString('hex')}`
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** The wait before the next reconnect: 0.5 s doubling up to 5 s. */
const backoff = (attempt: number) => Math.min(5000, 250 * 2 ** Math.min(attempt, 5))

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

/** Where one host's deploy is, as the runner knows it: what a cancel must do. */
interface Under {
  host: HostSpec
  /** The connection under way before the run is known (aborted by a cancel). */
  connection: AbortController | null
  /** Whether that connection may start the run (the probe with a payload, or `start`). */
  mayStart: boolean
  /** A cancel waiting to learn whether the run started: resolved with what it did. */
  waiting: ((message: string) => void)[]
}

export class SshHostDeployer implements HostDeployer {
  /** The run being followed, and whether a cancel reached it. */
  private active: HostRun | null = null
  private host: HostSpec | null = null
  private under: Under | null = null
  private cancelRequested = false
  /** Bundle bytes sent to hosts by this job (0 when every host had this version). */
  bundleBytesSent = 0

  constructor(private readonly o: DeployerOptions) {}

  async deploy(host: HostSpec, purpose: HostPurpose): Promise<HostOutcome> {
    const t0 = Date.now()
    this.host = host
    this.under = { host, connection: null, mayStart: false, waiting: [] }
    let outcome: HostOutcome | null = null
    try {
      this.checkKnownHosts(host)
      // A fleet rollback (promise 13) deploys the release the host ran before, and its records on the host say why.
      // On a fleet, `migrate` runs on the first host only (promise 15): the others are told to skip it.
      const inputs: Record<string, string> =
        purpose.kind === 'fleet-rollback'
          ? { ...this.o.inputs, 'release-dir': purpose.release, 'rollback-to': '', [FLEET_ROLLBACK_INPUT]: purpose.reason }
          : purpose.skipMigrate
            ? { ...this.o.inputs, [SKIP_MIGRATE_INPUT]: 'true' }
            : { ...this.o.inputs }
      const payload: StartPayload = { tag: this.o.tag, run: runName(this.o.tag), inputs, env: this.o.metadata, stepEnv: this.o.stepEnv ?? {} }
      const upload = this.o.upload && purpose.kind === 'deploy' ? this.o.upload : null
      // Without an upload, the probe starts the run itself when this bundle is there: one connection round less.
      const first = await this.probe(host, upload ? null : payload, t0)
      if ('outcome' in first) return (outcome = await first.outcome)
      const probe = first.probe
      const agent = await this.ensureBundle(host, probe)
      this.checkCancel()
      if (upload && (inputs['dry-run'] ?? '').trim().toLowerCase() === 'true') {
        printLine(`${host.label}: dry run: the upload is skipped (a dry run uploads nothing)`)
        payload.inputs[UPLOAD_SKIPPED_INPUT] = 'true'
      } else if (upload) {
        const opts: UploadOptions = { exclude: this.o.uploadExclude ?? ['.git'], signal: this.connection() }
        payload.inputs[STAGED_UPLOAD_INPUT] = await uploadRelease(this.o.transport, host, probe.node, agent, upload, opts)
        this.checkCancel()
      }
      return (outcome = await this.start(host, probe, agent, payload, t0))
    } catch (err) {
      if (!(err instanceof HostRefused) && !isUserError(err)) throw err
      // A connection a cancel stopped (before any run could start) is the cancel, not a failure.
      const cancelled = this.cancelRequested && !(err instanceof HostRefused) ? new HostRefused(`${host.label}: the job was cancelled before the deploy started on the host: nothing on it was changed.`, 'Deploy cancelled', true) : null
      const refused = cancelled ?? (err instanceof HostRefused ? err : new HostRefused(err.message, 'Remote deploy refused', true))
      core.error(refused.message, { title: refused.title })
      return (outcome = { host, result: 'aborted', reached: refused.reached, switched: false, release: null, previous: null, report: null, message: refused.message, ms: Date.now() - t0, outputs: {}, summary: '' })
    } finally {
      // A cancel still waiting learns how the host ended.
      for (const w of this.under?.waiting ?? []) w(outcome ? outcome.message : `${host.label}: the deploy ended without an outcome`)
      this.active = null
      this.host = null
      this.under = null
    }
  }

  /** Host keys are always verified: a target or jump host without a line is never connected to. */
  private checkKnownHosts(host: HostSpec): void {
    const missing = (h: string, port: number) => !knownHostsCover(this.o.knownHosts, h, port)
    if (missing(host.host, host.port)) {
      const name = knownHostsName(host.host, host.port)
      throw new HostRefused(
        `${host.label}: ssh-known-hosts has no line for ${name}, so the action will not connect (host keys are always verified). Fix: run \`ssh-keyscan -p ${host.port} ${host.host}\` from a trusted machine, check the fingerprint, and add the line for ${name} to ssh-known-hosts.`,
        'Host key not known',
        false
      )
    }
    const jump = this.o.jump
    if (jump && missing(jump.host, jump.port)) {
      const name = knownHostsName(jump.host, jump.port)
      throw new HostRefused(
        `${host.label}: ssh-known-hosts has no line for the jump host ${name} (ssh-jump), so the action will not connect through it (host keys are always verified, the jump host's too). Fix: run \`ssh-keyscan -p ${jump.port} ${jump.host}\` from a trusted machine, check the fingerprint, and add the line for ${name} to ssh-known-hosts.`,
        'Jump host key not known',
        false
      )
    }
  }

  /** A fresh abort signal for the connection about to start (a cancel before the run is known aborts it). */
  private connection(mayStart = false): AbortSignal {
    const c = new AbortController()
    if (this.under) {
      this.under.connection = c
      this.under.mayStart = mayStart
    }
    if (this.cancelRequested) c.abort()
    return c.signal
  }

  private checkCancel(): void {
    if (this.cancelRequested) throw new HostRefused(`${this.host?.label}: the job was cancelled before the deploy started on the host: nothing on it was changed.`, 'Deploy cancelled', true)
  }

  /** A command whose exit 255 is a connection that did not work: before anything changed, so `aborted`. */
  private async mustRun(host: HostSpec, command: string, input?: Buffer | string): Promise<SshResult> {
    const r = await this.o.transport.run(host, command, { input, timeoutMs: SHORT_MS, signal: this.connection() })
    this.checkCancel()
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
    let candidate: HostRun | null = null
    const onStdout = (c: Buffer) => {
      if (reader) return reader.feed(c)
      head = Buffer.concat([head, c])
      const at = head.indexOf('\n--\n')
      if (at < 0) {
        if (head.length > PROBE_HEAD_LIMIT) throw new Error(`the host sent more than ${PROBE_HEAD_LIMIT} bytes before the probe's answer (does a shell rc file print?)`)
        return
      }
      probe = parseProbe(head.subarray(0, at).toString())
      const p = probe
      // From here the host may have started the run: its directory's name is ours, so it can be found if the answer is lost.
      if (p.starting && payload) candidate = this.runOf(host, p, payload.run)
      reader = this.reader(stream, relay, (answer) => {
        this.sayProbe(host, { ...p, node: answer.node, version: answer.version })
        this.started(host, stream, { label: host.label, runDir: answer.runDir, node: answer.node, agent: this.agentPath(p) })
      })
      reader.feed(head.subarray(at + 4))
    }
    const input = `${this.o.inputs['pm2-home'] ?? ''}\n${payload ? JSON.stringify(payload) : ''}`
    const signal = this.connection(payload !== null)
    const r = await this.o.transport.run(host, probeCommand(hash, payload !== null), { input, timeoutMs: payload ? FOLLOW_MS : SHORT_MS, onStdout, signal })
    if (stream.run) return { outcome: this.finishFollow(host, stream.run, stream, relay, t0, r) }
    // The cached bundle failed its sha256 check before anything ran: removed on the host, installed again.
    if (payload && probe !== null && r.code === BUNDLE_DAMAGED_EXIT) {
      printLine(`${host.label}: ${r.stderr.trim().split('\n').pop() ?? 'the cached bundle did not match its sha256'}; installing it again`)
      return { probe: { ...(probe as Probe), bundlePresent: false } }
    }
    // The run may have started and its answer been lost: found out on the host, never guessed.
    if (payload && (candidate || (probe === null && this.mayHaveRun(r)))) return { outcome: this.settle(host, payload.run, candidate, t0, this.dropWords(r)) }
    this.checkCancel()
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

  /**
   * Whether a connection that ended before its answer may have run its command on the host: a
   * cancel, a timeout or a drop may all come after the session began; only a failure ssh reports
   * before any session (connect, host key, authentication) proves it did not.
   */
  private mayHaveRun(r: SshResult): boolean {
    if (this.cancelRequested || r.timedOut) return true
    if (r.code !== 255) return false
    return !/connect to host|banner exchange|kex_exchange_identification|Host key verification failed|HOST IDENTIFICATION HAS CHANGED|host key is not known|Permission denied|Could not resolve|Too many authentication failures/i.test(r.stderr)
  }

  private runOf(host: HostSpec, p: Probe, name: string): HostRun {
    return { label: host.label, runDir: `${p.home}/${CACHE_DIR}/runs/${name}`, node: p.node, agent: this.agentPath(p) }
  }

  /** How a connection ended, in words: a keepalive timeout is named as one. */
  private dropWords(r: SshResult): string {
    if (this.cancelRequested && r.code !== 0) return 'the job was cancelled'
    if (r.timedOut) return 'no end within 30 min'
    if (/Timeout, server .* not responding/i.test(r.stderr)) return `keepalive timeout: no answer to ${KEEPALIVE.countMax} keepalives ${KEEPALIVE.intervalSeconds} s apart`
    return r.stderr.trim().split('\n').pop() || `connection lost (exit ${r.code})`
  }

  /**
   * The start's answer was lost (a drop, a timeout, or a cancel after the host may have started the
   * run): the run's name is claimed on the host. Either the run is there (stopped first when the
   * job was cancelled, then followed to its result), or it never starts. A host unreachable for
   * reconnectMs leaves it unknown: said so, and counted as switched (promise 13).
   */
  private async settle(host: HostSpec, name: string, candidate: HostRun | null, t0: number, why: string): Promise<HostOutcome> {
    warn(`${host.label}: the connection ended (${why}) before the host answered whether the deploy started there; asking the host…`)
    const since = Date.now()
    let last = why
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (Date.now() - since > this.o.reconnectMs) return this.unknownStart(host, name, last, t0)
        await sleep((this.o.backoff ?? backoff)(attempt))
      }
      let run = candidate
      if (!run) {
        const r = await this.o.transport.run(host, probeCommand(this.o.bundle().hash), { input: `${this.o.inputs['pm2-home'] ?? ''}\n`, timeoutMs: SHORT_MS })
        const p = parseProbe(r.stdout.toString().split('\n--\n')[0] ?? '')
        if (r.code !== 0 || !p.home) {
          last = this.dropWords(r)
          continue
        }
        // Without this bundle on the host, the probe could not have started a run.
        if (!p.bundlePresent || !p.node) return this.neverStarted(host, name, why)
        run = this.runOf(host, p, name)
      }
      const r = await this.o.transport.run(host, nodeCommand(run.node, [run.agent, 'claim', name]), { timeoutMs: SHORT_MS })
      if (r.code === 255 || r.timedOut) {
        last = this.dropWords(r)
        continue
      }
      let answer: ClaimAnswer
      try {
        answer = JSON.parse(r.stdout.toString()) as ClaimAnswer
      } catch {
        return this.unknownStart(host, name, `the host's agent did not answer the claim (exit ${r.code}): ${r.stderr.trim().slice(-300)}`, t0)
      }
      if (answer.state === 'never-started') return this.neverStarted(host, name, why)
      const stream: Stream = { offset: 0, result: null, run: null }
      printLine(`${host.label}: the deploy had started on the host; following it`)
      this.started(host, stream, { ...run, runDir: answer.runDir })
      return this.finishFollow(host, stream.run!, stream, new LogRelay(), t0, null)
    }
  }

  private neverStarted(host: HostSpec, name: string, why: string): never {
    const cause = this.cancelRequested ? 'the job was cancelled before the deploy started on the host' : `the connection ended (${why}) as the deploy was being started`
    throw new HostRefused(`${host.label}: ${cause}; the host confirms it never started there (its run ${name} is claimed, so it cannot start later): nothing on it was changed.`, this.cancelRequested ? 'Deploy cancelled' : 'Remote deploy not started', true)
  }

  /** Whether the run started is unknown: the job says so, and the host counts as switched (the fleet never takes it as unchanged). */
  private unknownStart(host: HostSpec, name: string, why: string, t0: number): HostOutcome {
    const message =
      `${host.label}: the host stayed unreachable for ${Math.round(this.o.reconnectMs / 1000)} s (${why}), so it is NOT known whether the deploy started there: ` +
      `it is treated as switched. Its run, if it started, is ~/${CACHE_DIR}/runs/${name} on the host, and the host's audit log records its result.`
    core.error(message, { title: 'Remote deploy state unknown' })
    return { host, result: 'failed', reached: true, switched: true, release: null, previous: null, report: null, message, ms: Date.now() - t0, outputs: {}, summary: '' }
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
    const jump = this.o.jump
    const jumpKind = jump && r.jumpStderr?.trim() ? classifySshFailure(r.jumpStderr) : null
    if (jump && jumpKind && jumpKind !== 'other') {
      // The jump host's own failure, named as its own (not the target's).
      const name = knownHostsName(jump.host, jump.port)
      const title = jumpKind.startsWith('host-key') ? 'Jump host key verification failed' : 'SSH jump host failed'
      throw new HostRefused(sshFailureMessage(jumpKind, `${host.label}: the jump host ${name} (ssh-jump)`, { ...jump, user: jump.user ?? host.user }, r.jumpStderr ?? ''), title, false)
    }
    const kind = r.timedOut ? 'unreachable' : classifySshFailure(r.stderr)
    const title = kind.startsWith('host-key') ? 'Host key verification failed' : 'SSH connection failed'
    throw new HostRefused(sshFailureMessage(kind, host.label, host, r.timedOut ? 'no answer in time' : r.stderr), title, false)
  }

  private started(host: HostSpec, stream: Stream, run: HostRun): void {
    stream.run = run
    this.active = run
    this.o.onStarted?.(run)
    printLine(`${host.label}: the deploy runs on the host, detached from this connection (its log and result: ${run.runDir})`)
    // A cancel that came while the start was under way reaches the run now that it is known.
    if (this.cancelRequested) void this.forwardCancel(host, run).then((m) => this.resolveWaiting(m))
  }

  private resolveWaiting(message: string): void {
    const waiting = this.under?.waiting.splice(0) ?? []
    for (const w of waiting) w(message)
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
    const signal = this.connection(true)
    const r = await this.o.transport.run(host, nodeCommand(probe.node, verifiedAgentArgs(this.o.bundle().hash, ['start'])), { input: JSON.stringify(payload), timeoutMs: FOLLOW_MS, onStdout: (c) => reader.feed(c), signal })
    if (stream.run) return this.finishFollow(host, stream.run, stream, relay, t0, r)
    if (this.mayHaveRun(r)) return this.settle(host, payload.run, this.runOf(host, probe, payload.run), t0, this.dropWords(r))
    if (r.code === 255) this.refuseTransport(host, r)
    throw new HostRefused(`${host.label}: the deploy could not be started on the host (exit ${r.code}): ${r.stderr.trim().slice(-500)}`, 'Remote deploy not started', true)
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

  /**
   * After the first stream (or none): follow again from the byte reached until the result frame.
   * The host is given up on only after reconnectMs without a byte from it: any answer (a heartbeat
   * included) starts the window again.
   */
  private async finishFollow(host: HostSpec, run: HostRun, stream: Stream, relay: LogRelay, t0: number, first: SshResult | null): Promise<HostOutcome> {
    let lostSince: number | null = null
    let heard = first !== null
    let last = first
    for (let attempt = 0; !stream.result; attempt++) {
      if (last && last.code !== 255 && !last.timedOut && last.code !== 0) {
        throw new Error(`${host.label}: following the host's run failed (exit ${last.code}): ${last.stderr.trim().slice(-300)}`)
      }
      if (last && !(last.timedOut && heard) && (last.code === 255 || last.timedOut)) {
        const why = this.dropWords(last)
        if (heard || lostSince === null) {
          // The window starts at the last moment the host was heard from.
          lostSince = Date.now()
          relay.pause()
          warn(`${host.label}: the connection dropped (${why}); the deploy on the host goes on (it is detached). Reconnecting…`)
        } else if (Date.now() - lostSince > this.o.reconnectMs) return this.unreachable(host, run, relay, why, t0)
        await sleep((this.o.backoff ?? backoff)(attempt))
      }
      const reader = this.reader(stream, relay)
      const from = stream.offset
      const wasLost = lostSince !== null
      heard = false
      last = await this.o.transport.run(host, nodeCommand(run.node, [run.agent, 'follow', run.runDir, String(from)]), {
        timeoutMs: FOLLOW_MS,
        onStdout: (c) => {
          if (!heard && wasLost) printLine(`${host.label}: reconnected; the host's log continues from byte ${from}.`)
          if (!heard) relay.resume()
          heard = true
          reader.feed(c)
        }
      })
      if (heard) lostSince = null
    }
    relay.end()
    return this.outcomeOf(host, stream.result, relay, t0)
  }

  private unreachable(host: HostSpec, run: HostRun, relay: LogRelay, why: string, t0: number): HostOutcome {
    relay.end()
    const how = relay.lastPhase ? `it had reached the phase "${relay.lastPhase}"` : 'it had not reported a phase yet'
    const message =
      `${host.label}: the host stayed unreachable for ${Math.round(this.o.reconnectMs / 1000)} s (${why}); ${how}. The deploy there goes on without this job, and whether it switches is NOT known: it is treated as switched. ` +
      `Its log, outputs and report are in ${run.runDir} on the host, and its audit log records the result.`
    core.error(message, { title: 'Remote host unreachable' })
    return { host, result: 'failed', reached: true, switched: true, release: null, previous: null, report: null, message, ms: Date.now() - t0, outputs: {}, summary: '' }
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

  /**
   * A cancel of the job. Before any connection that may start the host's run: nothing is sent. While
   * one is under way: it is stopped, and the answer waits until the host says whether the run
   * started (then it is stopped before its switch, or left to finish after it). A known run: the
   * cancel goes to the host.
   */
  async cancel(): Promise<string> {
    this.cancelRequested = true
    const run = this.active
    const host = this.host
    const under = this.under
    if (run && host) return this.forwardCancel(host, run)
    if (!host || !under) return 'The job was cancelled before the deploy started on the host: nothing there was changed.'
    const mayStart = under.mayStart
    const answer = mayStart ? new Promise<string>((resolve) => under.waiting.push(resolve)) : null
    under.connection?.abort()
    return answer ?? `${host.label}: the job was cancelled before the deploy started on the host: nothing there was changed.`
  }

  private async forwardCancel(host: HostSpec, run: HostRun): Promise<string> {
    try {
      const r = await this.o.transport.run(host, nodeCommand(run.node, [run.agent, 'cancel', run.runDir]), { timeoutMs: CANCEL_MS })
      const answer = JSON.parse(r.stdout.toString()) as CancelAnswer
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

// One host's remote deploy (src/remote/deployer.ts) over a fake transport, for the windows too
// narrow to hit on real sshd (issue 23, points 1-3): a cancel while the probe that starts the run
// is in flight, a drop right after the host said `starting=yes`, a second drop after a good
// reconnect. The property: for every interleaving of cancel, drop and start answer, the job never
// says a host is unchanged unless the fake host's run did not start or was stopped before its switch.
import { describe, expect, test, vi } from 'vitest'
import fc from 'fast-check'
import { SshHostDeployer, type HostRun } from '../../src/remote/deployer.js'
import type { HostSpec } from '../../src/remote/host.js'
import type { RunOptions, SshResult } from '../../src/remote/ssh.js'
import type { Bundle } from '../../src/remote/bundle.js'
import { parseKnownHosts } from '../../src/core/ssh.js'

vi.mock('@actions/core', async (orig) => {
  const real = await orig<typeof import('@actions/core')>()
  const quiet = () => undefined
  return { ...real, error: quiet, warning: quiet, notice: quiet, info: quiet, startGroup: quiet, endGroup: quiet }
})
const said = vi.hoisted(() => [] as string[])
vi.mock('../../src/shell/print.js', () => ({ printLine: (l: string) => said.push(`print: ${l}`), warn: (l: string) => said.push(`warn: ${l}`), printUntrusted: () => undefined }))

const HOST: HostSpec = { label: 'deploy@web:22', user: 'deploy', host: 'web', port: 22 }
const HOME = '/home/deploy'
const KNOWN = parseKnownHosts('web ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFakeKeyFakeKeyFakeKeyFake').lines
const BUNDLE: Bundle = { root: '/dist', files: [], hash: 'a'.repeat(64), bytes: 0 }
const HEADER = `node=/usr/bin/node\nfrom=daemon\nversion=v22.1.0\nhome=${HOME}\npm2home=${HOME}/.pm2\nbundle=yes\n`

/** The words of a command shellCommand built (bare words and '…' with '\'' escapes). */
function words(command: string): string[] {
  const out: string[] = []
  let at = 0
  while (at < command.length) {
    while (command[at] === ' ') at++
    let w = ''
    while (at < command.length && command[at] !== ' ') {
      if (command[at] === "'") {
        const end = command.indexOf("'", at + 1)
        w += command.slice(at + 1, end)
        at = end + 1
      } else if (command[at] === '\\') {
        w += command[at + 1]
        at += 2
      } else w += command[at++]
    }
    out.push(w)
  }
  return out
}

const frame = (kind: string, body: string) => Buffer.from(`${kind}${Buffer.byteLength(body)}\n${body}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface FakeRun {
  name: string
  switched: boolean
  stopped: boolean
  done: boolean
  neverStarted: boolean
}

/** How the host and the connections behave in one scenario. */
interface Scenario {
  /** The probe's header (`starting=yes`) reaches the runner. */
  headerDelivered: boolean
  /** When the host's agent starts the run: never, while the probe connection lasts, or after the runner's end of it was cut. */
  hostStarts: 'never' | 'during' | 'after-cut'
  /** The start's answer (S frame) reaches the runner (when the run started during the connection). */
  answerDelivered: boolean
  /** When the job is cancelled. */
  cancelAt: 'never' | 'in-probe' | 'after-answer'
  /** The host's run switches the release at once (before any cancel can reach it). */
  switchEarly: boolean
  /** Connections (probes and claims) that fail before one works. */
  claimFailures: number
  /** Follow connections that deliver a heartbeat, wait, then drop. */
  followDrops: number
  followDropWaitMs: number
}

class FakeHost {
  readonly runs = new Map<string, FakeRun>()
  readonly commands: string[] = []
  private claimFailures: number
  private followDrops: number
  deployer!: SshHostDeployer
  cancelAnswer: Promise<string> | null = null

  constructor(private readonly s: Scenario) {
    this.claimFailures = s.claimFailures
    this.followDrops = s.followDrops
  }

  private startRun(name: string): void {
    if (this.runs.has(name)) return // claimed first: the late start refuses
    this.runs.set(name, { name, switched: this.s.switchEarly, stopped: false, done: false, neverStarted: false })
  }

  private runAt(dir: string): FakeRun {
    const r = this.runs.get(dir.split('/').pop()!)
    if (!r) throw new Error(`no run at ${dir}`)
    return r
  }

  private cancel(): void {
    this.cancelAnswer ??= this.deployer.cancel()
  }

  async run(_host: HostSpec, command: string, opts: RunOptions): Promise<SshResult> {
    await sleep(1)
    const w = words(command)
    const ok = (stdout: string): SshResult => ({ code: 0, stdout: Buffer.from(stdout), stderr: '', timedOut: false })
    const drop: SshResult = { code: 255, stdout: Buffer.alloc(0), stderr: 'Timeout, server web not responding.', timedOut: false }
    if (w[2]!.includes('JS=')) {
      this.commands.push(w[5] === 'start' ? 'probe+start' : 'probe')
      if (w[5] !== 'start') {
        if (this.claimFailures > 0 && this.claimFailures--) return drop
        return ok(`${HEADER}--\n`)
      }
      return this.probeStart(String(opts.input), opts)
    }
    const [cmd, arg] = w.slice(6)
    this.commands.push(cmd!)
    if (cmd === 'claim') {
      if (this.claimFailures > 0 && this.claimFailures--) return drop
      const r = this.runs.get(arg!)
      if (r && !r.neverStarted) return ok(JSON.stringify({ state: 'started', runDir: `${HOME}/.cache/pm2-safe-deploy/runs/${arg}` }))
      this.runs.set(arg!, { name: arg!, switched: false, stopped: false, done: true, neverStarted: true })
      return ok(JSON.stringify({ state: 'never-started' }))
    }
    if (cmd === 'cancel') {
      const r = this.runAt(arg!)
      if (r.done) return ok('{"state":"done"}')
      if (r.switched) return ok('{"state":"past-switch"}')
      r.stopped = r.done = true
      return ok('{"state":"stopped"}')
    }
    if (cmd === 'follow') {
      const r = this.runAt(arg!)
      if (this.followDrops > 0) {
        this.followDrops--
        opts.onStdout?.(frame('K', ''))
        await sleep(this.s.followDropWaitMs)
        return drop
      }
      if (!r.done) {
        // The host's deploy goes on: it switches and verifies.
        r.switched = true
        r.done = true
      }
      opts.onStdout?.(frame('L', '::group::Verify\nok\n::endgroup::\n'))
      opts.onStdout?.(frame('R', JSON.stringify(this.result(r))))
      return ok('')
    }
    throw new Error(`unexpected command ${cmd}`)
  }

  private result(r: FakeRun) {
    const release = { link: `${HOME}/app/current`, target: '/r/new', previous: '/r/old', live: r.switched ? '/r/new' : '/r/old', switched: r.switched, rolledBack: false, kind: 'deploy' }
    return {
      done: true,
      main: { code: r.stopped ? 1 : 0, signal: null },
      outputs: { result: r.stopped ? 'aborted' : 'deployed' },
      summary: '',
      releaseSwitch: r.switched ? { link: release.link, previous: '/r/old', target: '/r/new' } : null,
      commandsStarted: r.switched ? 1 : 0,
      release: r.stopped ? null : release
    }
  }

  /** The probe that starts the run: header, the host's start, its answer; the connection then drops. */
  private async probeStart(input: string, opts: RunOptions): Promise<SshResult> {
    const name = (JSON.parse(input.split('\n')[1]!) as { run: string }).run
    const cut = () => opts.signal?.aborted === true
    if (this.s.cancelAt === 'in-probe') this.cancel()
    if (this.s.headerDelivered && !cut()) opts.onStdout?.(Buffer.from(`${HEADER}starting=yes\n--\n`))
    if (this.s.hostStarts === 'during') this.startRun(name)
    if (this.s.hostStarts === 'during' && this.s.headerDelivered && this.s.answerDelivered && !cut()) {
      opts.onStdout?.(frame('S', JSON.stringify({ runDir: `${HOME}/.cache/pm2-safe-deploy/runs/${name}`, node: '/usr/bin/node', version: 'v22.1.0', pm2: null, supervisor: 1 })))
      if (this.s.cancelAt === 'after-answer') this.cancel()
    }
    // The remote shell may still start the run after the runner's side of the connection is gone.
    if (this.s.hostStarts === 'after-cut') setTimeout(() => this.startRun(name), 0)
    await sleep(2)
    return { code: 255, stdout: Buffer.alloc(0), stderr: cut() ? '' : 'Timeout, server web not responding.', timedOut: false }
  }
}

function deployerFor(host: FakeHost, started: HostRun[] = [], reconnectMs = 200): SshHostDeployer {
  const d = new SshHostDeployer({
    transport: host,
    knownHosts: KNOWN,
    bundle: () => BUNDLE,
    inputs: { 'pm2-home': '' },
    upload: null,
    tag: 'run-1-job',
    metadata: {},
    reconnectMs,
    backoff: () => 2,
    onStarted: (r) => started.push(r)
  })
  host.deployer = d
  return d
}

const base: Scenario = { headerDelivered: true, hostStarts: 'during', answerDelivered: true, cancelAt: 'never', switchEarly: false, claimFailures: 0, followDrops: 0, followDropWaitMs: 0 }

describe('a cancel while the probe that starts the run is in flight (issue 23, point 1)', () => {
  test('the host starts the run anyway: the runner finds it, stops it before its switch, and reports what the host did', async () => {
    const host = new FakeHost({ ...base, headerDelivered: false, hostStarts: 'after-cut', cancelAt: 'in-probe' })
    const started: HostRun[] = []
    const o = await deployerFor(host, started).deploy(HOST, { kind: 'deploy' })
    const run = [...host.runs.values()][0]!
    expect(run.neverStarted).toBe(false)
    expect(run.stopped).toBe(true)
    expect(run.switched).toBe(false)
    expect(o.result).toBe('aborted')
    expect(started).toHaveLength(1)
    expect(await host.cancelAnswer).toMatch(/stopped/)
  })
  test('the run had not started: it is claimed, so it never starts later, and the job says nothing changed', async () => {
    const host = new FakeHost({ ...base, headerDelivered: false, hostStarts: 'never', cancelAt: 'in-probe' })
    const o = await deployerFor(host).deploy(HOST, { kind: 'deploy' })
    expect(o.result).toBe('aborted')
    expect(o.message).toMatch(/never started/)
    expect([...host.runs.values()].every((r) => r.neverStarted)).toBe(true)
    expect(await host.cancelAnswer).toMatch(/never started/)
  })
})

describe('a drop right after `starting=yes` (issue 23, point 3)', () => {
  test('the host deployed, detached: the runner claims the run, follows it, and the post step can collect it', async () => {
    const host = new FakeHost({ ...base, answerDelivered: false })
    const started: HostRun[] = []
    const o = await deployerFor(host, started).deploy(HOST, { kind: 'deploy' })
    expect(o.result).toBe('deployed')
    expect(o.switched).toBe(true)
    expect(o.reached).toBe(true)
    expect(started.map((r) => r.runDir)).toEqual([`${HOME}/.cache/pm2-safe-deploy/runs/${[...host.runs.keys()][0]}`])
  })
  test('unreachable afterwards: not known, said so, and counted as switched', async () => {
    const host = new FakeHost({ ...base, answerDelivered: false, claimFailures: 1000 })
    const o = await deployerFor(host, [], 30).deploy(HOST, { kind: 'deploy' })
    expect(o.result).toBe('failed')
    expect(o.switched).toBe(true)
    expect(o.message).toMatch(/NOT known whether the deploy started/)
  })
})

describe('the reconnect window (issue 23, point 2)', () => {
  test('drops further apart than reconnectMs, each after a good reconnect: the deploy is followed to its end', async () => {
    const host = new FakeHost({ ...base, followDrops: 4, followDropWaitMs: 60 })
    const o = await deployerFor(host, [], 40).deploy(HOST, { kind: 'deploy' })
    expect(o.result).toBe('deployed')
    expect(host.commands.filter((c) => c === 'follow')).toHaveLength(5)
  })
})

describe('the log at a drop (issue 23, point 11)', () => {
  test('a keepalive timeout is named as one, and "reconnected" comes as soon as the host answers, before its log', async () => {
    said.length = 0
    const host = new FakeHost({ ...base, followDrops: 1, followDropWaitMs: 0 })
    await deployerFor(host).deploy(HOST, { kind: 'deploy' })
    const drop = said.findIndex((l) => /^warn: .*the connection dropped \(keepalive timeout: no answer to 3 keepalives 5 s apart\)/.test(l))
    const back = said.findIndex((l) => /^print: .*reconnected; the host's log continues from byte \d+/.test(l))
    expect(drop).toBeGreaterThanOrEqual(0)
    expect(back).toBeGreaterThan(drop)
  })
})

describe('every interleaving of cancel, drop and start answer', () => {
  const scenario = fc.record<Scenario>({
    headerDelivered: fc.boolean(),
    hostStarts: fc.constantFrom('never', 'during', 'after-cut'),
    answerDelivered: fc.boolean(),
    cancelAt: fc.constantFrom('never', 'in-probe', 'after-answer'),
    switchEarly: fc.boolean(),
    claimFailures: fc.integer({ min: 0, max: 3 }),
    followDrops: fc.integer({ min: 0, max: 2 }),
    followDropWaitMs: fc.constantFrom(0, 15)
  })
  test('the reported outcome matches what the fake host did', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const host = new FakeHost(s)
        const started: HostRun[] = []
        const o = await deployerFor(host, started, 25).deploy(HOST, { kind: 'deploy' })
        await host.cancelAnswer
        const runs = [...host.runs.values()].filter((r) => !r.neverStarted)
        const switched = runs.some((r) => r.switched)
        // Never "unchanged" unless no run started, or it was stopped before its switch.
        if (o.result === 'aborted') expect(switched, JSON.stringify(o.message)).toBe(false)
        if (switched) expect(o.switched, o.message).toBe(true)
        // A cancel before any switch reaches the run: it never switches.
        if (host.cancelAnswer !== null && !s.switchEarly && !/NOT known/.test(o.message)) expect(switched, o.message).toBe(false)
        // Every run the host started is known to the post step.
        if (runs.length > 0 && !/NOT known/.test(o.message)) expect(started.length).toBe(1)
      }),
      { numRuns: 300 }
    )
  })
})

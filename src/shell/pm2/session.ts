// The only code that runs pm2. Reads go over one RPC connection to the daemon (or
// `pm2 -s jlist` when the host's pm2 cannot provide one); every mutating command is
// gated against a fresh process list right before it is sent.
import { UserError } from '../../core/errors.js'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { cleanEnvironment } from '../clean-env.js'
import { daemonWentAway } from '../daemon-gone.js'
import { readerBundle } from '../ecosystem.js'
import { commandArgs, type PlannedCommand } from '../../core/plan.js'
import { gateCommand, UnsafeCommandError } from '../../core/targets.js'
export { UnsafeCommandError }
import { runCli, pm2Messages } from './cli.js'
import { locatePm2Executable, locatePm2Package, readPm2PackageVersion } from './locate.js'
import { extractJsonArray, toProcessRecords, type ProcessRecord } from './process-list.js'
import { Pm2Bus, Pm2Rpc, socketAnswers } from './rpc.js'

export class NoDaemonError extends UserError {}
export class Pm2CommandError extends UserError {}

export interface SentCommand {
  command: string
  args: string[]
  cwd: string
  exitCode: number
  ms: number
  messages: string[]
}

export interface SessionOptions {
  pm2Path: string
  pm2Home: string
  env: NodeJS.ProcessEnv
  /** Where ecosystem commands run (PM2 resolves relative script paths from it). */
  workingDirectory: string
  /** The ecosystem reader bundle; default: dist/reader beside the running bundle. */
  readerBundle?: string
}

const READ_TIMEOUT_MS = 20_000
const MUTATION_TIMEOUT_MS = 180_000
/** How old a list may be and still count as fresh for the gate: far less than any human or deploy step. */
const FRESH_MS = 250

export class Pm2Session {
  readonly sent: SentCommand[] = []

  private constructor(
    readonly executable: string,
    readonly pm2Home: string,
    readonly cliVersion: string | null,
    private readonly env: Record<string, string>,
    private readonly rpc: Pm2Rpc | null,
    /** An empty private directory: no script path can equal path.resolve(<name>) from here. */
    private readonly scratchDir: string,
    private readonly workingDirectory: string,
    private readonly pm2Root: string | null,
    private readonly readerBundle: string | null = null
  ) {}

  /** Locates pm2 and checks a daemon answers at PM2_HOME, without ever starting one. */
  static async open(opts: SessionOptions): Promise<Pm2Session> {
    const executable = locatePm2Executable(opts.pm2Path, opts.env.PATH)
    const env = cleanEnvironment(opts.env, opts.pm2Home)
    // nvm and similar installs keep node beside pm2; a service PATH may have neither.
    if (opts.pm2Path.includes('/')) env.PATH = [path.dirname(executable), env.PATH].filter(Boolean).join(path.delimiter)
    await assertDaemonAnswers(opts.pm2Home)
    const root = locatePm2Package(executable)
    const rpc = root ? await Pm2Rpc.open(root, opts.pm2Home) : null
    const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2-safe-deploy-cwd-'))
    return new Pm2Session(executable, opts.pm2Home, readPm2PackageVersion(root), env, rpc, scratchDir, opts.workingDirectory, root, opts.readerBundle ?? null)
  }

  /** The PATH pm2 runs with (pm2's own directory first): where it finds bare scripts and interpreters. */
  get searchPath(): string {
    return this.env.PATH ?? ''
  }

  get readPath(): 'rpc' | 'cli' {
    return this.rpc ? 'rpc' : 'cli'
  }

  /** The pm2 command being sent, if any. */
  private inFlight: Promise<unknown> | null = null

  /**
   * Waits (at most `timeoutMs`) for a pm2 command in flight to finish: a cancelled job
   * must not release the host lock while its command still changes the daemon.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    if (!this.inFlight) return true
    let timer: NodeJS.Timeout | undefined
    const done = await Promise.race([
      this.inFlight.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))
    ])
    clearTimeout(timer)
    return done
  }

  /** The last list read, and when; forgotten as soon as a command is sent. */
  private last: { at: number; list: ProcessRecord[] } | null = null

  /** The process list, fresh from the daemon. */
  async list(): Promise<ProcessRecord[]> {
    const at = Date.now()
    const list = await this.readList()
    this.last = { at, list }
    return list
  }

  /**
   * A list read at most `maxAgeMs` ago with no command sent since, else a new one: a
   * check right after a read (plan → first command, verify → isolation) costs nothing.
   */
  async freshList(maxAgeMs = FRESH_MS): Promise<ProcessRecord[]> {
    return this.last && Date.now() - this.last.at <= maxAgeMs ? this.last.list : this.list()
  }

  private async readList(): Promise<ProcessRecord[]> {
    if (this.rpc) return toProcessRecords(await this.rpc.call('getMonitorData', READ_TIMEOUT_MS))
    // `pm2 jlist` starts a daemon when none answers: check first, every time.
    await assertDaemonAnswers(this.pm2Home)
    const result = await runCli(this.executable, ['-s', 'jlist'], {
      env: this.env,
      cwd: this.scratchDir,
      timeoutMs: READ_TIMEOUT_MS
    })
    if (result.code !== 0 || result.timedOut) {
      throw new Pm2CommandError(`pm2 jlist failed (exit ${result.code}${result.timedOut ? ', timed out' : ''}): ${result.stderr.trim()}`)
    }
    return toProcessRecords(extractJsonArray(result.stdout))
  }

  async daemonVersion(): Promise<string | null> {
    if (!this.rpc) return null
    try {
      return String(await this.rpc.call('getVersion', 5000))
    } catch {
      return null
    }
  }

  /**
   * Checks a planned command against `processes` without sending it. By-name targets
   * must resolve to own processes only; ecosystem commands may name own apps only.
   */
  check(cmd: PlannedCommand, processes: readonly ProcessRecord[], ownNames: ReadonlySet<string>): void {
    gateCommand(cmd, processes, ownNames, this.scratchDir)
  }

  /** Gates the command against a fresh process list, then sends it. */
  async send(cmd: PlannedCommand, ownNames: ReadonlySet<string>): Promise<SentCommand> {
    if (cmd.verb !== 'save') this.check(cmd, await this.freshList(), ownNames)
    // The pm2 CLI starts a daemon when none answers (promise 8); a list up to FRESH_MS old does not prove one is there.
    await assertDaemonAnswers(this.pm2Home)
    const args = commandArgs(cmd)
    const cwd = cmd.verb === 'startOrReload' || cmd.verb === 'startOrRestart' || cmd.verb === 'start' ? this.workingDirectory : this.scratchDir
    this.last = null
    const [exe, argv] = this.launcher(cmd, args)
    const running = runCli(exe, argv, { env: this.env, cwd, timeoutMs: MUTATION_TIMEOUT_MS })
    this.inFlight = running
    const result = await running.finally(() => (this.inFlight = null))
    this.last = null
    const sent: SentCommand = {
      command: `pm2 ${args.join(' ')}`,
      args,
      cwd,
      exitCode: result.timedOut ? -1 : result.code,
      ms: result.ms,
      messages: pm2Messages(result)
    }
    this.sent.push(sent)
    return sent
  }

  /**
   * pm2 itself, or, for a swap's start that takes the app's env from the ecosystem file,
   * the ecosystem reader running pm2 with that env: the action never holds the values.
   */
  private launcher(cmd: PlannedCommand, args: string[]): [string, string[]] {
    if (cmd.verb !== 'start-script' || !cmd.envFrom) return [this.executable, args]
    const reader = this.readerBundle ?? readerBundle()
    if (!reader) throw new Pm2CommandError("cannot find the action's ecosystem reader (dist/reader/index.js beside dist/main): is the action checkout complete?")
    const { ecosystem, envName } = cmd.envFrom
    return [process.execPath, [reader, '--exec-with-app-env', ecosystem, cmd.name, envName ?? '', '--', this.executable, ...args]]
  }

  private bus: Promise<Pm2Bus | null> | null = null

  /**
   * A sleep that ends early when PM2 announces a start, exit or restart of one of
   * `names` (or at once if one came since the last sleep); null without the event bus.
   */
  async eventSleep(names: ReadonlySet<string>): Promise<((ms: number) => Promise<void>) | null> {
    if (!this.rpc || !this.pm2Root) return null
    const bus = await (this.bus ??= Pm2Bus.open(this.pm2Root, this.pm2Home))
    if (!bus) return null
    let pending = false
    let wake: (() => void) | null = null
    bus.onProcessEvent((name) => {
      if (!names.has(name)) return
      pending = true
      wake?.()
    })
    return (ms) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          wake = null
          pending = false
          resolve()
        }
        const timer = setTimeout(done, ms)
        if (pending) done()
        else wake = done
      })
  }

  async goneWithin(waitMs: number): Promise<boolean> {
    return daemonWentAway(this.pm2Home, { waitMs })
  }

  close(): void {
    void this.bus?.then((b) => b?.close())
    this.rpc?.close()
    fs.rmSync(this.scratchDir, { recursive: true, force: true })
  }
}

/** Promise 8: no daemon at PM2_HOME is an error, never a reason to start one. */
export async function assertDaemonAnswers(pm2Home: string): Promise<void> {
  const socket = path.join(pm2Home, 'rpc.sock')
  if (await socketAnswers(socket)) return
  const exists = fs.existsSync(pm2Home)
  throw new NoDaemonError(
    `No PM2 daemon answers at ${socket}. ` +
      (exists
        ? 'The directory exists but its daemon is not running (or belongs to another user). '
        : `${pm2Home} does not exist. `) +
      'Set `pm2-home` to the PM2_HOME of the user whose daemon runs the apps (often /home/<user>/.pm2), and run the ' +
      'runner as that user. The action never starts a daemon: an empty one would look like a host with no processes.'
  )
}

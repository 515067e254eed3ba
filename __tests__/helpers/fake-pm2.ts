// An in-memory PM2 for the orchestration test: a process table that the gated commands
// change the way PM2 would (by name), plus hooks to play a neighbour's or a crash's part.
import { commandArgs, type PlannedCommand } from '../../src/core/plan.js'
import type { ProcessRecord } from '../../src/core/process-record.js'
import { gateCommand } from '../../src/core/targets.js'
import type { Pm2Port } from '../../src/deploy/ports.js'
import type { SentCommand } from '../../src/shell/pm2/session.js'
import { processRecord } from './process-record.js'

export class FakePm2 implements Pm2Port {
  readonly sent: SentCommand[] = []
  readonly cliVersion = '7.0.4'
  readonly readPath = 'rpc' as const
  readonly searchPath = process.env.PATH ?? ''
  processes: ProcessRecord[]
  /** Runs after every command the deploy sends (a neighbour acting, a crash). */
  afterSend: (cmd: PlannedCommand, fake: FakePm2) => void = () => undefined
  /** Runs before every list read (a crash loop restarts on its own). */
  beforeList: (fake: FakePm2) => void = () => undefined
  closed = false
  private nextPid = 5000

  constructor(processes: ProcessRecord[]) {
    this.processes = processes
  }

  async daemonVersion(): Promise<string> {
    return '7.0.4'
  }

  async list(): Promise<ProcessRecord[]> {
    this.beforeList(this)
    return this.processes.map((p) => ({ ...p }))
  }

  freshList(): Promise<ProcessRecord[]> {
    return this.list()
  }

  check(cmd: PlannedCommand, processes: readonly ProcessRecord[], own: ReadonlySet<string>): void {
    gateCommand(cmd, processes, own, '/nonexistent-scratch')
  }

  async send(cmd: PlannedCommand, own: ReadonlySet<string>): Promise<SentCommand> {
    if (cmd.verb !== 'save') this.check(cmd, await this.list(), own)
    if ('targets' in cmd) {
      for (const name of cmd.targets) {
        if (cmd.verb === 'delete') this.processes = this.processes.filter((p) => p.name !== name)
        else for (const p of this.processes.filter((q) => q.name === name)) this.respawn(p)
      }
    }
    const sent: SentCommand = { command: `pm2 ${commandArgs(cmd).join(' ')}`, args: commandArgs(cmd), cwd: '/', exitCode: 0, ms: 1, messages: [] }
    this.sent.push(sent)
    this.afterSend(cmd, this)
    return sent
  }

  /** A new OS process for `p`, as a restart or reload gives it. */
  respawn(p: ProcessRecord): void {
    p.pid = this.nextPid++
    p.restarts += 1
    p.status = 'online'
  }

  /** No event bus by default: verification polls the list with real sleeps. */
  async eventSleep(): Promise<((ms: number) => Promise<void>) | null> {
    return null
  }

  async settle(): Promise<boolean> {
    return true
  }

  /** Set to make the fake daemon go away (the deploy then names it as gone). */
  gone = false

  async goneWithin(): Promise<boolean> {
    return this.gone
  }

  close(): void {
    this.closed = true
  }
}

export { processRecord }

// What the orchestration needs from the outside world, as interfaces: the real shell
// provides them (SHELL below), and the in-process orchestration test provides fakes.
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { readEcosystem } from '../shell/ecosystem.js'
import type { PlannedCommand } from '../core/plan.js'
import type { ProcessRecord } from '../core/process-record.js'
import { Pm2Session, type SentCommand, type SessionOptions } from '../shell/pm2/session.js'

/** A PM2 daemon as the deploy uses it: gated sends, fresh reads, the event bus. */
export interface Pm2Port {
  readonly sent: readonly SentCommand[]
  readonly cliVersion: string | null
  readonly readPath: 'rpc' | 'cli'
  /** The PATH pm2 runs with: preflight looks up bare scripts and interpreters on it. */
  readonly searchPath: string
  daemonVersion(): Promise<string | null>
  list(): Promise<ProcessRecord[]>
  freshList(): Promise<ProcessRecord[]>
  check(cmd: PlannedCommand, processes: readonly ProcessRecord[], own: ReadonlySet<string>): void
  send(cmd: PlannedCommand, own: ReadonlySet<string>): Promise<SentCommand>
  eventSleep(names: ReadonlySet<string>): Promise<((ms: number) => Promise<void>) | null>
  settle(timeoutMs: number): Promise<boolean>
  /**
   * Whether the daemon went away: its socket stops answering within `waitMs` (a daemon
   * shutting down stops its apps before it closes the socket). Starts nothing.
   */
  goneWithin(waitMs: number): Promise<boolean>
  close(): void
}

export interface DeployPorts {
  openPm2(opts: SessionOptions): Promise<Pm2Port>
  readEcosystem(file: string, env: Record<string, string>, cwd: string): Promise<EcosystemApp[]>
}

export const SHELL: DeployPorts = {
  openPm2: (opts) => Pm2Session.open(opts),
  readEcosystem
}

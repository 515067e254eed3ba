// The one explicit state of a deploy: what the phases found and decided, in the order the
// report tells it. Phases fill it; finish() turns it into the snapshot, report and audit record.
import * as core from '@actions/core'
import type { Violation } from '../core/isolation.js'
import type { PlannedCommand } from '../core/plan.js'
import type { OldInstance } from '../core/swap.js'
import type { ProcessRecord } from '../core/process-record.js'
import type { CheckRecord, DeployResult, FailingRecord, HookRecord, ReleaseRecord } from '../core/report-schema.js'
import { isStagingPath, STAGED_UPLOAD_INPUT } from '../core/internal-inputs.js'
import type { WorkflowMetadata } from '../core/workflow-metadata.js'
import type { Inputs } from '../shell/inputs.js'
import type { HostLock } from '../shell/lock.js'
import { ensureRunDir, type RunDirTarget } from '../shell/runs.js'
import type { SentCommand } from '../shell/pm2/session.js'
import type { Pm2Port } from './ports.js'

export interface Outcome {
  result: DeployResult
  message: string
  /** The annotation title of an abort or failure; empty on success. */
  title: string
}

export class DeployState {
  readonly startedAt = Date.now()
  /** Names this run's files: unique per attempt, job and process. */
  readonly runTag: string
  readonly timings: Record<string, number> = {}
  readonly checks: CheckRecord[] = []
  readonly violations: Violation[] = []
  readonly warnings: string[] = []
  inputs: Inputs | null = null
  metadata: WorkflowMetadata | null = null
  ownNames: readonly string[] = []
  plan: readonly PlannedCommand[] = []
  /** Each swap's old instances, deleted by pm_id once the new ones are verified (promise 9). */
  retire: readonly OldInstance[] = []
  retired = false
  /** The release switch (promise 10): what was live, what is, whether it was switched back. */
  release: ReleaseRecord | null = null
  /** When the link was switched: own processes spawned before it still run the previous release. */
  switchedAt: number | null = null
  before: readonly ProcessRecord[] = []
  /** The list the end isolation check passed on: nothing changes PM2 after it. */
  endList: readonly ProcessRecord[] | null = null
  snapshots: { before: string | null; after: string | null } = { before: null, after: null }
  /** The daemon connection, opened while the inputs are checked and the file is read. */
  opening: Promise<Pm2Port> | null = null
  session: Pm2Port | null = null
  lock: HostLock | null = null
  /** The per-release-directory lock (promise 15): held from the prepare stage to the end of the run. */
  releaseLock: HostLock | null = null
  /** A staged upload not (yet) made release-dir: removed at the end unless the prepare stage installed it. */
  staged: string | null
  /** `prepare` and `migrate` as they ran or why they did not (promise 15). */
  prepare: HookRecord | null = null
  migrate: HookRecord | null = null
  outcome: Outcome = { result: 'deployed', message: '', title: '' }
  /** This run's directory for snapshots and the report (promise 11): made on first use. */
  runDir: string | null = null
  /** Processes seen `stopping` when the own processes failed: the action never stops any, a daemon shutting down does. */
  sawStopping = false
  /** The PM2 daemon stopped answering during the deploy. */
  daemonGone = false
  /** Own processes that failed verification: the cause each logged and the end of its logs. */
  readonly failing: FailingRecord[] = []

  constructor(readonly env: NodeJS.ProcessEnv) {
    // Only a path in the agent's staging area is ever moved or removed (parseInputs refuses any other).
    const staged = env[`INPUT_${STAGED_UPLOAD_INPUT.toUpperCase()}`]?.trim() || null
    this.staged = staged && isStagingPath(staged) ? staged : null
    this.runTag = `${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${env.GITHUB_JOB ?? 'job'}-${process.pid}-${this.startedAt}`.replace(/[^\w.-]/g, '_')
  }

  get own(): ReadonlySet<string> {
    return new Set(this.ownNames)
  }

  get sent(): readonly SentCommand[] {
    return this.session?.sent ?? []
  }

  /** Whether any pm2 command was sent: from then on a stop is `failed`, never `aborted`. */
  get changed(): boolean {
    return this.sent.length > 0
  }

  /** Runs one phase as a log group, adding its time to `timings` under the group's title. */
  async phase<T>(title: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now()
    try {
      return await core.group(title, fn)
    } finally {
      this.timings[title] = (this.timings[title] ?? 0) + Date.now() - t0
    }
  }

  runDirectory(target: RunDirTarget): string {
    return (this.runDir ??= ensureRunDir(target, new Date(this.startedAt), this.runTag))
  }

  conclude(result: DeployResult, message: string): void {
    this.outcome = { result, message, title: '' }
  }
}

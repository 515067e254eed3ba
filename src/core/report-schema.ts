// The JSON report (the `report` output), defined once: the TypeScript type is derived
// from this schema, the README documents its fields (a test keeps the two in step),
// and docs/report.schema.json is its JSON Schema for other tools.
//
// Stability: fields are only ever added within a schemaVersion. Removing or renaming a
// field, or changing its meaning or type, bumps REPORT_SCHEMA_VERSION. Readers should
// check `schemaVersion` and ignore fields they do not know.
import { z } from 'zod'
import type { Violation } from './isolation.js'
import type { WorkflowMetadata } from './workflow-metadata.js'
import type { ProcessRecord } from './process-record.js'
import type { KeptRelease } from './release-history.js'

export const REPORT_SCHEMA_VERSION = 1

const str = z.string()
const nstr = z.string().nullable()

/** One PM2 process, the fixed fields the action records. Never any environment value. */
export const ProcessRecordSchema = z
  .strictObject({
    pmId: z.number().int().describe('PM2 process id'),
    name: str.describe('process name'),
    namespace: str.describe('PM2 namespace (`default` when none was set)'),
    pid: z.number().int().describe('OS pid; 0 when not running'),
    status: str.describe('PM2 status: online, launching, stopping, stopped, waiting restart, errored'),
    restarts: z.number().describe('PM2 restart_time'),
    unstableRestarts: z.number().describe('PM2 unstable_restarts'),
    startedAt: z.number().nullable().describe('spawn time of the current OS process, ms since the epoch (PM2 pm_uptime)'),
    execMode: str.describe('`fork` or `cluster`'),
    instances: z.number().nullable().describe('instances setting of the app'),
    interpreter: nstr.describe('PM2 exec_interpreter: `node`, `none`, `python3`, a path, …'),
    script: nstr.describe('absolute script path (PM2 pm_exec_path)'),
    cwd: nstr.describe('working directory (PM2 pm_cwd)'),
    outLog: nstr.describe('stdout log file'),
    errLog: nstr.describe('stderr log file'),
    memory: z.number().nullable().describe('resident memory in bytes'),
    cpu: z.number().nullable().describe('CPU percent')
  })
  .describe('a PM2 process')

export const WorkflowMetadataSchema = z
  .strictObject({
    platform: z.enum(['gitea', 'github', 'local']).describe('`gitea` (GITEA_ACTIONS=true), `github` (GITHUB_ACTIONS=true) or `local`'),
    repository: nstr.describe('GITHUB_REPOSITORY'),
    workflow: nstr.describe('GITHUB_WORKFLOW'),
    workflowRef: nstr.describe('GITHUB_WORKFLOW_REF (GitHub only)'),
    workflowSha: nstr.describe('GITHUB_WORKFLOW_SHA (GitHub only)'),
    workflowFile: nstr.describe('the running workflow file, relative to the workspace, when found'),
    workflowFileSha256: nstr.describe('sha256 of that file'),
    runId: nstr.describe('GITHUB_RUN_ID'),
    runNumber: nstr.describe('GITHUB_RUN_NUMBER'),
    runAttempt: nstr.describe('GITHUB_RUN_ATTEMPT'),
    runUrl: nstr.describe('link to the run'),
    job: nstr.describe('GITHUB_JOB'),
    event: nstr.describe('GITHUB_EVENT_NAME'),
    ref: nstr.describe('GITHUB_REF'),
    sha: nstr.describe('GITHUB_SHA'),
    actor: nstr.describe('GITHUB_ACTOR'),
    runner: nstr.describe('RUNNER_NAME'),
    runnerOs: nstr.describe('RUNNER_OS'),
    host: str.describe('host name'),
    user: str.describe('OS user the action ran as'),
    actionVersion: str.describe('version of pm2-safe-deploy'),
    nodeVersion: str.describe('node version running the action'),
    pm2CliVersion: nstr.describe('version of the pm2 package at `pm2-path`'),
    pm2DaemonVersion: nstr.describe('version the running daemon reports'),
    pm2Home: str.describe('PM2_HOME used'),
    pm2ReadPath: z.enum(['rpc', 'cli']).nullable().describe('how the process list was read: the daemon socket or `pm2 jlist`')
  })
  .describe('who deployed what, from where; every GitHub/Gitea variable is optional')

export const ViolationSchema = z.strictObject({
  kind: z.enum(['count-changed', 'went-offline', 'restarted']).describe('what changed'),
  name: str.describe('the other app (process name)'),
  detail: str.describe('human-readable detail, e.g. `2 process(es) before, 0 after`')
})

export const CheckSchema = z.strictObject({
  name: str.describe('check name: `targets`, `preflight`, `isolation after cleanup`, `own processes healthy`, `isolation at the end`'),
  ok: z.boolean().describe('passed'),
  detail: str.describe('what was found')
})

export const CommandSchema = z.strictObject({
  command: str.describe('the pm2 command line as sent (an argument array, shown joined)'),
  exitCode: z.number().int().describe('pm2 exit code; -1 when it timed out'),
  ms: z.number().describe('duration in milliseconds'),
  messages: z.array(str).describe("pm2's own output lines (no environment)")
})

export const PlanEntrySchema = z.strictObject({
  command: str.describe('a planned pm2 command'),
  why: str.describe('why it is planned')
})

export const RestoreHintSchema = z
  .strictObject({
    kind: z
      .enum(['start', 'scale', 'restart', 'resurrect'])
      .describe(
        '`start` (the name is gone), `scale` (some of its processes are gone), `restart` (present but no longer online), `resurrect` (gone names that PM2\'s saved dump holds, or the whole daemon gone)'
      ),
    name: str.describe('the other app (process name); for `resurrect`, the lost names, comma separated'),
    namespace: str.describe('its namespace before the deploy'),
    missing: z.number().int().describe('processes of this name missing or offline'),
    before: z.number().int().describe('processes of this name before the deploy'),
    script: nstr.describe('script path from the before-snapshot'),
    cwd: nstr.describe('working directory from the before-snapshot'),
    interpreter: nstr.describe('interpreter from the before-snapshot'),
    execMode: str.describe('`fork` or `cluster` from the before-snapshot'),
    instances: z.number().nullable().describe('instances setting from the before-snapshot'),
    argv: z.array(str).nullable().describe('pm2 arguments of the command (null when no safe command exists)'),
    command: nstr.describe('the same as one line to paste into a POSIX shell on the host, as the daemon\'s user (paths single-quoted)'),
    caveats: z.array(str).describe('what the command cannot restore (args and environment are never recorded) and other cautions'),
    wouldStart: z.array(str).optional().describe('`resurrect` only: every name `pm2 resurrect` would start (in the dump, not running)'),
    dumpSavedAt: nstr.optional().describe('`resurrect` only: when `dump.pm2` was last written (`pm2 save`)')
  })
  .describe('how to bring back another app that the deploy found missing or offline')

export const DeployResultSchema = z.enum(['deployed', 'dry-run', 'aborted', 'failed', 'rolled-back'])

export const ReleaseRecordSchema = z
  .strictObject({
    link: str.describe('the `current-link` input'),
    target: str.describe('the release this deploy made live (real path of `release-dir`)'),
    previous: nstr.describe('the release live before (null on a first deploy)'),
    switched: z.boolean().describe('whether the link was switched (false for a redeploy of the live release, or when the deploy stopped before)'),
    rolledBack: z.boolean().describe('whether the link was switched back to `previous`'),
    live: nstr.describe('the release the link names at the end (the `release` output)'),
    kind: z
      .enum(['deploy', 'rollback-to', 'fleet-rollback'])
      .optional()
      .describe('why the run touched the release: `deploy`, `rollback-to` (a rollback on demand, from `previous` to `target`) or `fleet-rollback` (a fleet switching this host back)'),
    downtime: z.array(str).describe('own apps that were deleted and started fresh (fork mode with changed paths): they had downtime'),
    swapped: z.array(str).describe('own cluster apps switched with new instances beside the old (no downtime)'),
    pruned: z
      .array(z.strictObject({ path: str, remove: z.boolean(), reason: str, error: nstr }))
      .describe("keep-releases: every release directory this app's deploys recorded, kept or removed, and why")
  })
  .describe('the release switch (with `current-link` and `release-dir`)')

export const KeptReleaseSchema = z
  .strictObject({
    path: str.describe('the release directory (real path)'),
    state: z
      .enum(['live', 'previous', 'rolled back from'])
      .nullable()
      .describe('`live`; `previous`: what `rollback-to: previous` would make live now; `rolled back from`: undone (unhealthy or on demand) since its last verified deploy; null otherwise'),
    deployedAt: nstr.describe('when a run last made it live and verified it, a rollback to it included (from the audit log); null when the log records none'),
    sha: nstr.describe('the commit of the deploy (not a rollback) that last made it live'),
    runId: nstr.describe('the workflow run of that deploy'),
    runUrl: nstr.describe('the link to that run')
  })
  .describe('a release directory kept on the host (promise 16)')

export const HookRecordSchema = z
  .strictObject({
    sha256: str.describe('sha256 of the input as given (its text is never recorded: a workflow may inline a secret in it)'),
    skipped: nstr.describe('why it did not run (a redeploy of the live release, a rollback, a dry run, another host of the fleet runs it); null when it ran'),
    exitCode: z.number().int().nullable().describe('its exit code; null when it did not run, was killed or could not start'),
    signal: nstr.describe('the signal that ended it, if one did'),
    timedOut: z.boolean().describe('whether it ran past `prepare-timeout-seconds` (its whole process group was then killed)'),
    durationMs: z.number().describe('how long it ran, in milliseconds'),
    lastLines: z.array(str).describe('its last `log-lines` output lines (escape sequences removed, URL passwords masked)')
  })
  .describe('a `prepare` or `migrate` run on the host (promise 15)')

const FailingSchema = z
  .strictObject({
    name: str.describe('own process name, or `prepare` / `migrate` when that failed'),
    cause: nstr.describe("the last line of its error log (else its out log) that reads like an error, bounded; null when none"),
    logs: z
      .array(
        z.strictObject({
          stream: z.enum(['error', 'out']).describe('which log'),
          file: str.describe('the log file'),
          lines: z.array(str).describe('its last `log-lines` lines (escape sequences removed, URL passwords masked)')
        })
      )
      .describe("its log files, the error log first")
  })
  .describe('a failing own process and the end of its logs')

export const DeployReportSchema = z
  .strictObject({
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION).describe('version of this schema; bumped on any incompatible change'),
    result: DeployResultSchema.describe('`deployed`, `dry-run`, `aborted` (refused before changing anything), `failed` (changed, then failed) or `rolled-back` (failed, and the previous release was restored and verified)'),
    title: str.describe('short cause of an abort or failure (the annotation title), e.g. `SAFETY ABORT`, `Preflight failed`; empty on success'),
    message: str.describe('why it ended this way; SAFETY ABORT messages start with `SAFETY ABORT:`; may span lines'),
    app: str.describe('the `app` input'),
    environmentSuffix: str.describe('the `environment-suffix` input'),
    strategy: str.describe('`reload`, `restart` or `recreate` (empty when the inputs were invalid)'),
    dryRun: z.boolean().describe('the `dry-run` input'),
    ownNames: z.array(str).describe('own process names, in order'),
    metadata: WorkflowMetadataSchema.nullable().describe('workflow metadata (null when the inputs were invalid)'),
    plan: z.array(PlanEntrySchema).describe('planned pm2 commands, in order'),
    commands: z.array(CommandSchema).describe('pm2 commands actually sent, in order'),
    checks: z.array(CheckSchema).describe('checks run, in order'),
    violations: z.array(ViolationSchema).describe('isolation violations: other apps that changed'),
    warnings: z.array(str).describe('warnings (stale cwd, foreign restarts with `foreign-restarts: warn`, …)'),
    processes: z
      .strictObject({
        before: z.array(ProcessRecordSchema).describe('every process before any change'),
        after: z.array(ProcessRecordSchema).describe('every process at the end (empty when it could not be read)')
      })
      .describe('the PM2 process list before and after'),
    snapshots: z
      .strictObject({
        before: nstr.describe('path of the before-snapshot file'),
        after: nstr.describe('path of the after-snapshot file')
      })
      .describe('snapshot files (the same paths as the outputs)'),
    failing: z.array(FailingSchema).optional().describe('own processes that failed verification, with the cause and the end of their logs (absent when none failed)'),
    restore: z.array(RestoreHintSchema).describe('on `failed`/`aborted`: how to bring back other apps that went missing or offline; empty otherwise'),
    release: ReleaseRecordSchema.nullable().describe('the release switch; null without `current-link`'),
    releases: z
      .array(KeptReleaseSchema)
      .optional()
      .describe('with `current-link`: the release directories the deploys of this app recorded that are still on disk, newest first (absent without `current-link`)'),

    prepare: HookRecordSchema.nullable().optional().describe('the `prepare` input run in the new release before the lock (absent or null when not set)'),
    migrate: HookRecordSchema.nullable().optional().describe('the `migrate` input run after the preflight and before the switch (absent or null when not set)'),
    timings: z.record(z.string(), z.number()).describe('milliseconds per phase (log group name), and `total`'),
    startedAt: z.iso.datetime().describe('ISO 8601 time the action started'),
    finishedAt: z.iso.datetime().describe('ISO 8601 time the report was written')
  })
  .describe('pm2-safe-deploy report')

export type DeployResult = z.infer<typeof DeployResultSchema>
export type DeployReport = z.infer<typeof DeployReportSchema>
export type RestoreHint = z.infer<typeof RestoreHintSchema>
export type ReleaseRecord = z.infer<typeof ReleaseRecordSchema>
export type CheckRecord = z.infer<typeof CheckSchema>
export type CommandRecord = z.infer<typeof CommandSchema>
export type FailingRecord = z.infer<typeof FailingSchema>
export type HookRecord = z.infer<typeof HookRecordSchema>

// The schema restates types that other modules own. If one of them changes, these fail
// to compile: update the schema (and the README's field tables) in the same change.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
export const SCHEMA_MATCHES_SOURCE_TYPES: [
  Same<z.infer<typeof ProcessRecordSchema>, ProcessRecord>,
  Same<z.infer<typeof WorkflowMetadataSchema>, WorkflowMetadata>,
  Same<z.infer<typeof ViolationSchema>, Violation>,
  Same<z.infer<typeof KeptReleaseSchema>, KeptRelease>
] = [true, true, true, true]

/**
 * JSON Schema (draft 2020-12) of the report, for tools that do not use zod
 * (docs/report.schema.json). Unlike the zod schema, which the action's own tests hold
 * it to exactly, it allows unknown fields: fields may be added within a schemaVersion.
 */
export function reportJsonSchema(): Record<string, unknown> {
  const open = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(open)
    if (node === null || typeof node !== 'object') return node
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(node)) if (!(k === 'additionalProperties' && v === false)) out[k] = open(v)
    return out
  }
  const schema = open(z.toJSONSchema(DeployReportSchema, { target: 'draft-2020-12' })) as Record<string, unknown>
  return { ...schema, title: `pm2-safe-deploy report, schemaVersion ${REPORT_SCHEMA_VERSION}` }
}

// One builder for each record the action writes: the snapshot, the report, the audit entry.
// Each picks fixed fields from the state: nothing else (never an environment value) gets in.
import type { ProcessRecord } from '../core/process-record.js'
import { restoreHints } from '../core/report.js'
import { readDumpSummary } from '../shell/dump.js'
import { REPORT_SCHEMA_VERSION, type DeployReport, type DeployResult } from '../core/report-schema.js'
import { describeCommand } from '../core/plan.js'
import { FLEET_ROLLBACK_INPUT } from '../core/rollout.js'
import { buildAuditRecord, type AuditRecord, type AuditRelease } from '../shell/audit.js'
import * as core from '@actions/core'
import type { Snapshot } from '../shell/snapshot.js'
import type { WorkflowMetadata } from '../core/workflow-metadata.js'
import { ownDirectoriesOf } from './identity.js'
import { keptReleasesOf } from './releases-table.js'
import type { DeployState } from './state.js'

export function snapshotOf(state: DeployState, label: Snapshot['label'], processes: readonly ProcessRecord[]): Snapshot {
  return {
    schemaVersion: 1,
    label,
    takenAt: new Date().toISOString(),
    pm2Home: state.inputs?.pm2Home ?? '',
    ownNames: [...state.ownNames],
    processes: [...processes]
  }
}

/** The app, suffix, strategy and dry-run of the attempt; from the raw inputs when they did not parse. */
function attempt(state: DeployState) {
  const i = state.inputs
  return {
    app: i?.app ?? core.getInput('app'),
    environmentSuffix: i?.suffix ?? '',
    strategy: i?.strategy ?? '',
    dryRun: i?.dryRun ?? false
  }
}

/** A run a fleet started to switch this host back (promise 13) says so first, in its report and its audit line. */
function noted(state: DeployState, message: string): string {
  const reason = state.env[`INPUT_${FLEET_ROLLBACK_INPUT.toUpperCase()}`]?.trim()
  return reason && !message.startsWith(reason) ? `${reason}\n${message}` : message
}

const withReleases = (releases: DeployReport['releases']) => (releases ? { releases } : {})

export function reportOf(state: DeployState, after: readonly ProcessRecord[] | null): DeployReport {
  const { result, title } = state.outcome
  const message = noted(state, state.outcome.message)
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    result,
    title,
    message,
    ...attempt(state),
    ownNames: [...state.ownNames],
    metadata: state.metadata,
    plan: state.plan.map((c) => ({ command: describeCommand(c), why: c.why })),
    commands: state.sent.map((c) => ({ command: c.command, exitCode: c.exitCode, ms: c.ms, messages: c.messages })),
    checks: state.checks,
    violations: state.violations,
    warnings: state.warnings,
    processes: { before: [...state.before], after: [...(after ?? [])] },
    snapshots: { ...state.snapshots },
    ...(state.failing.length > 0 ? { failing: [...state.failing] } : {}),
    restore: restoreHints({
      result,
      ownNames: state.ownNames,
      before: state.before,
      after: after ?? [],
      afterListed: after !== null,
      pm2Home: state.inputs?.pm2Home ?? null,
      // Names and save time only: PM2's dump carries every app's env.
      dump: state.inputs && result !== 'deployed' && result !== 'dry-run' ? readDumpSummary(state.inputs.pm2Home) : null,
      daemonGone: state.daemonGone
    }),
    release: state.release,
    ...withReleases(keptReleasesOf(state)),
    ...(state.prepare ? { prepare: state.prepare } : {}),
    ...(state.migrate ? { migrate: state.migrate } : {}),
    timings: { ...state.timings, total: Date.now() - state.startedAt },
    startedAt: new Date(state.startedAt).toISOString(),
    finishedAt: new Date().toISOString()
  }
}

/** The audit line of this attempt: at the end (with the report), or when a signal cut it short. */
export interface AuditEnding {
  result: DeployResult
  message: string
  report: string | null
  /** Collected for the audit alone when the run stopped before its metadata phase. */
  metadata?: WorkflowMetadata | null
  /** The list the own directories are read from (the one at the end); null: none recorded. */
  processes?: readonly ProcessRecord[] | null
}

export function auditOf(state: DeployState, ending: AuditEnding): AuditRecord {
  return buildAuditRecord({
    time: new Date().toISOString(),
    result: ending.result,
    message: noted(state, ending.message),
    report: ending.report,
    ...attempt(state),
    ownNames: state.ownNames,
    commands: state.sent,
    violations: state.violations,
    metadata: ending.metadata ?? state.metadata,
    snapshots: { ...state.snapshots },
    ownDirectories: ownDirectoriesOf(ending.processes ?? null, state.own),
    release: auditReleaseOf(state)
  })
}

/** Why this run touched the release: a fleet switching this host back, `rollback-to`, or a deploy. */
export function releaseKindOf(state: DeployState): AuditRelease['kind'] {
  if (state.env[`INPUT_${FLEET_ROLLBACK_INPUT.toUpperCase()}`]?.trim()) return 'fleet-rollback'
  return state.inputs?.rollbackTo ? 'rollback-to' : 'deploy'
}

function auditReleaseOf(state: DeployState): AuditRelease | null {
  const r = state.release
  if (!r) return null
  return { link: r.link, target: r.target, previous: r.previous, live: r.live, switched: r.switched, rolledBack: r.rolledBack, kind: releaseKindOf(state) }
}

// The end of every run, whatever stopped it: the after snapshot, the report file, the audit
// line, the verdict in the log and the job summary, the outputs; then the lock and the
// connection are let go.
import path from 'node:path'
import * as core from '@actions/core'
import { messageOf } from '../core/errors.js'
import type { ProcessRecord } from '../core/process-record.js'
import { renderAnnotation, renderLogVerdict, renderSummary } from '../core/report.js'
import type { DeployReport } from '../core/report-schema.js'
import { resolveAuditTarget, tryAppendAudit } from '../shell/audit.js'
import { collectMetadata } from '../shell/metadata.js'
import { failStep, setReleaseOutput, setReportOutputs } from '../shell/outputs.js'
import { writePrivateFile, writeSnapshot } from '../shell/snapshot.js'
import { pruneRuns, runDirTarget, runDirTargetFromRawInputs } from '../shell/runs.js'
import { ACTION_VERSION } from '../shell/version.js'
import { auditOf, reportOf, snapshotOf } from './records.js'
import type { DeployState } from './state.js'
import { dropStaged } from './prepare.js'
import { printLine, warn } from '../shell/print.js'

export async function finish(state: DeployState): Promise<void> {
  try {
    // A staged upload this run did not make release-dir (refused, aborted, dry run) is not left behind.
    dropStaged(state)
    const after = await recordAfter(state)
    const report = reportOf(state, after)
    const reportFile = writeReport(state, report)
    audit(state, report, reportFile, after)
    await tell(report, reportFile)
  } finally {
    state.lock?.release()
    state.releaseLock?.release()
    await closeConnection(state)
  }
}

/** The list at the end (the one the end check passed on, else a new read) and its snapshot; null when unreadable. */
async function recordAfter(state: DeployState): Promise<readonly ProcessRecord[] | null> {
  const { session, inputs } = state
  if (!session || !inputs || state.daemonGone) return null
  let after: readonly ProcessRecord[]
  try {
    after = state.endList ?? (await session.list())
  } catch (err) {
    state.warnings.push(`could not take the after snapshot: ${messageOf(err)}`)
    return null
  }
  // A list read but not written is still the list: restore hints must not take every process for gone.
  try {
    state.snapshots.after = writeSnapshot(state.runDirectory(runDirTarget(inputs)), state.runTag, snapshotOf(state, 'after', after))
  } catch (err) {
    state.warnings.push(`could not write the after snapshot: ${messageOf(err)}`)
  }
  return after
}

/** The report goes beside the snapshots (promise 11); inputs that did not parse resolve the same place from the raw inputs. */
function writeReport(state: DeployState, report: DeployReport): string {
  const target = state.inputs ? runDirTarget(state.inputs) : runDirTargetFromRawInputs(state.env, (name) => core.getInput(name))
  let file = ''
  try {
    file = path.join(state.runDirectory(target), `pm2-safe-deploy-${state.runTag}-report.json`)
    writePrivateFile(file, JSON.stringify(report, null, 2) + '\n')
  } catch (err) {
    warn(`could not write the report: ${messageOf(err)}`)
    return ''
  }
  // The default dir keeps the newest runs only; this run's is never removed.
  if (target.isDefault) {
    try {
      pruneRuns(target.snapshotDir, path.dirname(file))
    } catch (err) {
      warn(`could not remove old runs from ${target.snapshotDir}: ${messageOf(err)}`)
    }
  }
  return file
}

/**
 * Every attempt is recorded, also one refused for invalid inputs: the audit path comes from the raw inputs.
 * Own directories only after commands were sent: until then a process with an own name may be anyone's.
 */
function audit(state: DeployState, report: DeployReport, reportFile: string, after: readonly ProcessRecord[] | null): void {
  const target = resolveAuditTarget(state.env, (name) => core.getInput(name))
  const metadata =
    state.metadata ??
    collectMetadata(state.env, { actionVersion: ACTION_VERSION, pm2CliVersion: null, pm2DaemonVersion: null, pm2Home: state.inputs?.pm2Home ?? target?.pm2Home ?? '', pm2ReadPath: null })
  const problem = tryAppendAudit(target, auditOf(state, { result: report.result, message: report.message, report: reportFile || null, metadata, processes: state.changed ? after : null }))
  if (problem) report.warnings.push(problem)
}

/** The verdict for people: warnings, the log verdict, the job summary (where the runner shows one), outputs, failure. */
async function tell(report: DeployReport, reportFile: string): Promise<void> {
  for (const w of report.warnings) warn(w)
  printLine('')
  printLine(renderLogVerdict(report))
  // core.summary needs the file variable: a local run or an old Gitea has none.
  if (process.env.GITHUB_STEP_SUMMARY) {
    try {
      await core.summary.addRaw(renderSummary(report)).write()
    } catch (err) {
      warn(`could not write the job summary: ${messageOf(err)}`)
    }
  }
  setReportOutputs(report, reportFile)
  if (report.release) setReleaseOutput(report.release.live)
  if (report.result === 'aborted' || report.result === 'failed' || report.result === 'rolled-back') {
    const annotation = renderAnnotation(report)
    failStep(annotation?.message ?? report.message, annotation?.title ?? `pm2-safe-deploy: ${report.title || report.result}`)
  }
}

/** Closes the connection, also one opened while the inputs were checked but never used. */
async function closeConnection(state: DeployState): Promise<void> {
  const session = state.session ?? (await state.opening?.catch(() => null))
  session?.close()
}

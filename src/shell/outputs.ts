// The step's outputs (SPEC "Outputs"), each named once, written through @actions/core.
import * as core from '@actions/core'
import { linesAsText } from '../core/untrusted.js'
import type { DeployReport } from '../core/report-schema.js'

export const OUTPUT = {
  result: 'result',
  ownProcesses: 'own-processes',
  violations: 'violations',
  snapshotBefore: 'snapshot-before',
  snapshotAfter: 'snapshot-after',
  report: 'report',
  release: 'release',
  hosts: 'hosts'
} as const

export function setOwnProcessesOutput(ownNames: readonly string[]): void {
  core.setOutput(OUTPUT.ownProcesses, JSON.stringify(ownNames))
}

/** Every output from the finished report; `reportFile` is empty when it could not be written. */
export function setReportOutputs(report: DeployReport, reportFile: string): void {
  core.setOutput(OUTPUT.result, report.result)
  setOwnProcessesOutput(report.ownNames)
  core.setOutput(OUTPUT.violations, String(report.violations.length))
  core.setOutput(OUTPUT.snapshotBefore, report.snapshots.before ?? '')
  core.setOutput(OUTPUT.snapshotAfter, report.snapshots.after ?? '')
  core.setOutput(OUTPUT.report, reportFile)
}

/** With `current-link`: the release directory live at the end. */
export function setReleaseOutput(live: string | null): void {
  core.setOutput(OUTPUT.release, live ?? '')
}

/**
 * Fails the step with one titled annotation: core.setFailed (exit code 1 plus an error)
 * takes no title, and a titled error beside its untitled one would say the same twice.
 */
export function failStep(message: string, title: string): void {
  process.exitCode = core.ExitCode.Failure
  // Its lines hold untrusted parts (names, pm2's words) and show in the log as lines: each as text.
  core.error(linesAsText(message).join('\n'), { title })
}

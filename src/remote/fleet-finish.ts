// The fleet's verdict for people and workflows: the log verdict, the job summary (a table of
// hosts, then each host's report), the outputs, and a failed step unless every host deployed.
import * as core from '@actions/core'
import { hostsOutput, renderFleetLogVerdict, renderFleetSummary } from '../core/fleet-report.js'
import { fmtMs } from '../core/report.js'
import { failStep, OUTPUT } from '../shell/outputs.js'
import { printLine, warn } from '../shell/print.js'
import type { FleetEnd } from './fleet.js'

export async function tellFleet(end: FleetEnd): Promise<void> {
  const { verdict } = end
  printLine('')
  for (const line of renderFleetLogVerdict(verdict)) printLine(line)
  if (end.rollbackMs !== null) printLine(`Fleet rollback: ${fmtMs(end.rollbackMs)} from the failing host's outcome to the last host back and verified`)
  if (process.env.GITHUB_STEP_SUMMARY) {
    const summaries = new Map<string, string>()
    for (const o of [...end.record.deploys, ...end.record.rollbacks]) {
      if (o.summary) summaries.set(o.host.label, [summaries.get(o.host.label), o.summary].filter(Boolean).join('\n\n'))
    }
    try {
      await core.summary.addRaw(renderFleetSummary(verdict, summaries)).write()
    } catch (err) {
      warn(`could not write the job summary: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  core.setOutput(OUTPUT.result, verdict.result)
  core.setOutput(OUTPUT.hosts, hostsOutput(verdict))
  // One host's paths say nothing about the others: the `hosts` output has each one.
  core.setOutput(OUTPUT.report, '')
  const releases = new Set(verdict.hosts.map((h) => h.release))
  core.setOutput(OUTPUT.release, releases.size === 1 ? ([...releases][0] ?? '') : '')
  if (verdict.result !== 'deployed' && verdict.result !== 'dry-run') failStep(verdict.message, `pm2-safe-deploy: ${verdict.title}`)
}

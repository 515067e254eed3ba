// The same verdict and tables in the log, compact: Gitea before 1.27 shows no job summary.
import type { DeployReport } from '../report-schema.js'
import { linesAsText } from '../untrusted.js'
import { failingLog } from './failing.js'
import { releasesLog } from './releases.js'
import { restoreBlock } from './restore-block.js'
import { fmtMs, noProcessList, otherRows, ownRows, pad, timingEntries } from './tables.js'
import { nextSteps, verdictHeadline } from './verdict.js'

/** The same verdict and tables for the log, compact: Gitea before 1.27 shows no job summary. */
export function renderLogVerdict(report: DeployReport): string {
  const out: string[] = []
  const v = verdictHeadline(report)
  out.push(`==== pm2-safe-deploy: ${v.icon} ${v.text} [${report.result}] ====`)
  for (const l of report.message.split(/\r?\n/)) out.push(`  ${l}`)
  out.push(...failingLog(report))
  const steps = nextSteps(report)
  if (steps.length > 0) {
    out.push('What to do:')
    for (const s of steps) out.push(`  - ${s}`)
  }
  if (report.violations.length > 0) {
    out.push('Other apps that changed:')
    for (const x of report.violations) out.push(`  ! ${x.name}: ${x.kind}: ${x.detail}`)
  }
  out.push(...restoreBlock(report, 'log'))
  for (const w of report.warnings) out.push(`warning: ${w}`)
  out.push(...releasesLog(report))
  out.push('', 'Own processes, before → after:')
  if (noProcessList(report)) out.push("  not read: the action stopped before it read PM2's process list")
  else {
    const rows = ownRows(report).map((r) => [r.name, r.pmId, r.status, r.pid, r.restarts, r.uptime, r.memory])
    out.push(...pad([['name', 'pm_id', 'status', 'pid', 'restarts', 'uptime', 'memory'], ...rows]).map((l) => '  ' + l))
  }
  const others = otherRows(report)
  out.push(`Other apps (${others.length}), before → after:`)
  if (others.length > 0) {
    const rows = others.map((r) => [r.name, r.namespace, r.count, r.status, r.changes.length ? `CHANGED: ${r.changes.join(', ')}` : ''])
    out.push(...pad([['app', 'namespace', 'processes', 'status', ''], ...rows]).map((l) => '  ' + l))
  }
  if (report.commands.length > 0) {
    out.push('Commands sent:')
    for (const c of report.commands) out.push(`  ${c.command} → exit ${c.exitCode} (${fmtMs(c.ms)})`)
  } else {
    out.push(`Commands sent: none${report.plan.length > 0 ? `; planned: ${report.plan.map((p) => p.command).join('; ')}` : ''}`)
  }
  out.push(`Timings: ${timingEntries(report).map(([k, ms]) => `${k} ${fmtMs(ms)}`).join(' · ')}`)
  // Names, paths and pm2's words sit in these lines: each line as text (promise 14).
  return out.flatMap(linesAsText).join('\n')
}


// The job summary (Markdown): verdict first, then what to do, then the evidence.
import type { DeployReport } from '../report-schema.js'
import { md, mdCode, mdFence, mdInline, mdQuote, mdTable } from './markdown.js'
import { failingBlock } from './failing.js'
import { releasesMd } from './releases.js'
import { restoreBlock } from './restore-block.js'
import { fmtMs, noProcessList, otherRows, ownRows, timingEntries } from './tables.js'
import { nextSteps, verdictHeadline } from './verdict.js'

/** The job summary (Markdown): verdict first, then what to do, then the evidence. */
export function renderSummary(report: DeployReport): string {
  const out: string[] = []
  const v = verdictHeadline(report)
  out.push(`## ${v.icon} ${md(v.text)}`, '')
  out.push(...mdQuote(report.message))
  out.push(...failingBlock(report))
  const steps = nextSteps(report)
  if (steps.length > 0) {
    out.push('', '**What to do**', '')
    steps.forEach((s, i) => out.push(`${i + 1}. ${mdInline(s)}`))
  }
  if (report.violations.length > 0) {
    out.push('', '### Other apps that changed', '')
    out.push(...mdTable(['app', 'what changed', 'detail'], report.violations.map((x) => [mdCode(x.name), md(x.kind), md(x.detail)])))
  }
  out.push(...restoreBlock(report, 'md'))
  if (report.warnings.length > 0) {
    out.push('', '### Warnings', '')
    for (const w of report.warnings) out.push(`- ⚠️ ${md(w)}`)
  }
  out.push(...releasesMd(report))
  out.push('', `### Own processes (${report.ownNames.length} name${report.ownNames.length === 1 ? '' : 's'}), before → after`, '')
  if (noProcessList(report)) out.push("Not read: the action stopped before it read PM2's process list.")
  else {
    out.push(
      ...mdTable(
        ['name', 'pm_id', 'status', 'pid', 'restarts', 'uptime', 'memory'],
        ownRows(report).map((r) => [mdCode(r.name), ...[r.pmId, r.status, r.pid, r.restarts, r.uptime, r.memory].map(md)])
      )
    )
  }
  const others = otherRows(report)
  out.push('', `### Other apps on this daemon (${others.length}), before → after`, '')
  if (noProcessList(report)) out.push('Not read.')
  else if (others.length === 0) out.push('None.')
  else {
    out.push(
      ...mdTable(
        ['app', 'namespace', 'processes', 'status', ''],
        others.map((r) => [mdCode(r.name), mdCode(r.namespace), md(r.count), md(r.status), r.changes.length ? `⚠️ ${r.changes.join(', ')}` : 'unchanged'])
      )
    )
  }
  out.push('', '### Commands sent', '')
  if (report.commands.length > 0) {
    out.push(...mdFence(report.commands.map((c) => `${c.command}   → exit ${c.exitCode} (${fmtMs(c.ms)})`)))
  } else {
    out.push(report.dryRun ? 'None: dry run.' : 'None: nothing was changed.')
    if (report.plan.length > 0) {
      out.push('', 'Planned (not sent):', '')
      out.push(...mdFence(report.plan.map((p) => `${p.command}   # ${p.why}`)))
    }
  }
  if (report.checks.length > 0) {
    out.push('', '### Checks', '')
    for (const c of report.checks) out.push(`- ${c.ok ? '✅' : '❌'} ${md(c.name)}: ${md(c.detail)}`)
  }
  out.push('', '### Timings', '')
  out.push(...mdTable(['phase', 'time'], timingEntries(report).map(([k, ms]) => [md(k), fmtMs(ms)])))
  out.push('', '<details><summary>Workflow metadata</summary>', '')
  const m = report.metadata
  if (m) out.push(...mdTable(['field', 'value'], Object.entries(m).filter(([, x]) => x !== null && x !== '').map(([k, x]) => [k, md(String(x))])))
  else out.push('Not collected: the inputs were invalid.')
  out.push('', `Report schema v${report.schemaVersion} · started ${report.startedAt} · finished ${report.finishedAt}`, '', '</details>', '')
  return out.join('\n')
}


// The cause first (issue 17): what each failing own process logged, named where people look
// (the annotation, the summary, the log verdict), and its last log lines folded in the summary.
import type { DeployReport } from '../report-schema.js'
import { mdCode, mdFence } from './markdown.js'

/** One line per failing process that logged a cause: `<name> logged: <line>` (untrusted: printers make it text). */
export function causeLines(report: DeployReport): string[] {
  return (report.failing ?? []).filter((f) => f.cause !== null).map((f) => `${f.name} logged: ${f.cause}`)
}

/** Text inside an HTML element (the `<summary>` of a `<details>`), where Markdown is not read. */
function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r\n|\r|\n/g, ' ')
}

/** The summary's cause line and, per failing process, its last log lines in a collapsed block (a fence no line can close). */
export function failingBlock(report: DeployReport): string[] {
  const failing = report.failing ?? []
  if (failing.length === 0) return []
  const out: string[] = []
  for (const f of failing) {
    if (f.cause !== null) out.push('', `**Cause**: ${mdCode(f.name)} logged ${mdCode(f.cause)}`)
  }
  for (const f of failing) {
    const lines = f.logs.flatMap((l) => [`--- ${l.stream}: ${l.file}`, ...(l.lines.length > 0 ? l.lines : ['(empty)'])])
    const count = Math.max(0, ...f.logs.map((l) => l.lines.length))
    out.push('', `<details><summary>Last ${count} log line${count === 1 ? '' : 's'} of <code>${html(f.name)}</code></summary>`, '', ...mdFence(lines, 'text'), '', '</details>')
  }
  return out
}

/** For the log verdict: the causes, one line each. */
export function failingLog(report: DeployReport): string[] {
  return causeLines(report).map((l) => `Cause: ${l}`)
}


// The rows of the summary's and the log's tables: own processes and other apps, before → after.
import type { ProcessRecord } from '../process-record.js'
import type { DeployReport } from '../report-schema.js'

export function fmtUptime(startedAt: number | null, at: string): string {
  if (!startedAt) return '–'
  const s = Math.max(0, Math.round((Date.parse(at) - startedAt) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

export function fmtMem(bytes: number | null): string {
  return bytes == null ? '–' : `${(bytes / 1048576).toFixed(1)} MB`
}

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

const arrow = (a: string, b: string) => `${a} → ${b}`

export interface OwnRow {
  name: string
  pmId: string
  status: string
  pid: string
  restarts: string
  uptime: string
  memory: string
}

/** Own processes, before → after, one row per process (paired by name, then pm_id order). */
export function ownRows(report: DeployReport): OwnRow[] {
  const rows: OwnRow[] = []
  for (const name of report.ownNames) {
    const b = report.processes.before.filter((p) => p.name === name)
    const a = report.processes.after.filter((p) => p.name === name)
    const n = Math.max(b.length, a.length, 1)
    for (let i = 0; i < n; i++) {
      const x = b[i]
      const y = a[i]
      const ids = [...new Set([x?.pmId, y?.pmId].filter((id) => id !== undefined))]
      rows.push({
        name,
        pmId: ids.length ? ids.join(' → ') : '–',
        status: arrow(x?.status ?? '–', y?.status ?? '–'),
        pid: arrow(x ? String(x.pid) : '–', y ? String(y.pid) : '–'),
        restarts: arrow(x ? String(x.restarts) : '–', y ? String(y.restarts) : '–'),
        uptime: arrow(x ? fmtUptime(x.startedAt, report.startedAt) : '–', y ? fmtUptime(y.startedAt, report.finishedAt) : '–'),
        memory: arrow(x ? fmtMem(x.memory) : '–', y ? fmtMem(y.memory) : '–')
      })
    }
  }
  return rows
}

export interface OtherRow {
  name: string
  namespace: string
  count: string
  status: string
  /** Violation kinds for this name; empty when unchanged. */
  changes: string[]
}

function statusSummary(ps: readonly ProcessRecord[]): string {
  if (ps.length === 0) return '–'
  const byStatus = new Map<string, number>()
  for (const p of ps) byStatus.set(p.status, (byStatus.get(p.status) ?? 0) + 1)
  return [...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')
}

/** True when the report holds a process list from the end of the run. */
function afterKnown(report: DeployReport): boolean {
  return report.snapshots.after !== null || report.processes.after.length > 0
}

/** Other apps grouped by name: count and status, before → after. */
export function otherRows(report: DeployReport): OtherRow[] {
  const own = new Set(report.ownNames)
  const all = [...report.processes.before, ...report.processes.after].filter((p) => !own.has(p.name))
  const names = [...new Set(all.map((p) => p.name))].sort()
  const known = afterKnown(report)
  return names.map((name) => {
    const b = report.processes.before.filter((p) => p.name === name)
    const a = report.processes.after.filter((p) => p.name === name)
    const namespaces = [...new Set([...b, ...a].map((p) => p.namespace))]
    return {
      name,
      namespace: namespaces.join(', '),
      count: arrow(String(b.length), known ? String(a.length) : '?'),
      status: arrow(statusSummary(b), known ? statusSummary(a) : '?'),
      changes: [...new Set(report.violations.filter((v) => v.name === name).map((v) => v.kind))]
    }
  })
}

export function timingEntries(report: DeployReport): [string, number][] {
  return Object.entries(report.timings)
}

export function noProcessList(report: DeployReport): boolean {
  return report.snapshots.before === null && report.processes.before.length === 0 && report.processes.after.length === 0
}

/** Rows as aligned plain-text columns, for the log (widths by code point). */
export function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)))
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd())
}

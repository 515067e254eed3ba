// The deploy report (the `report` output), and its renderings for the job summary
// and the log. Pure: data in, text out.
import type { Violation } from './isolation.js'
import type { WorkflowMetadata } from './metadata.js'
import type { ProcessRecord } from './pm2/process-list.js'

export const REPORT_SCHEMA_VERSION = 1

export type DeployResult = 'deployed' | 'dry-run' | 'aborted' | 'failed'

export interface CheckRecord {
  name: string
  ok: boolean
  detail: string
}

export interface CommandRecord {
  command: string
  exitCode: number
  ms: number
  messages: string[]
}

export interface DeployReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION
  result: DeployResult
  /** One line: why it ended this way. SAFETY ABORT messages start with "SAFETY ABORT:". */
  message: string
  app: string
  environmentSuffix: string
  strategy: string
  dryRun: boolean
  ownNames: string[]
  metadata: WorkflowMetadata | null
  plan: { command: string; why: string }[]
  commands: CommandRecord[]
  checks: CheckRecord[]
  violations: Violation[]
  warnings: string[]
  processes: { before: ProcessRecord[]; after: ProcessRecord[] }
  snapshots: { before: string | null; after: string | null }
  timings: Record<string, number>
  startedAt: string
  finishedAt: string
}

const VERDICT: Record<DeployResult, string> = {
  deployed: '✅ Deployed',
  'dry-run': '🔍 Dry run: nothing changed',
  aborted: '⛔ Aborted: nothing changed',
  failed: '❌ Failed'
}

function fmtUptime(startedAt: number | null, at: string): string {
  if (!startedAt) return '–'
  const s = Math.max(0, Math.round((Date.parse(at) - startedAt) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

function fmtMem(bytes: number | null): string {
  return bytes == null ? '–' : `${(bytes / 1048576).toFixed(1)} MB`
}

export interface OwnRow {
  name: string
  pmId: string
  before: string
  after: string
}

function procCell(p: ProcessRecord | undefined, at: string): string {
  if (!p) return 'absent'
  return `${p.status} · pid ${p.pid} · ↻${p.restarts} · up ${fmtUptime(p.startedAt, at)} · ${fmtMem(p.memory)}`
}

export function ownRows(report: DeployReport): OwnRow[] {
  const own = new Set(report.ownNames)
  const before = report.processes.before.filter((p) => own.has(p.name))
  const after = report.processes.after.filter((p) => own.has(p.name))
  const rows: OwnRow[] = []
  for (const name of report.ownNames) {
    const b = before.filter((p) => p.name === name)
    const a = after.filter((p) => p.name === name)
    const n = Math.max(b.length, a.length, 1)
    for (let i = 0; i < n; i++) {
      rows.push({
        name,
        pmId: [b[i]?.pmId, a[i]?.pmId].filter((x) => x !== undefined).filter((x, j, arr) => arr.indexOf(x) === j).join(' → ') || '–',
        before: procCell(b[i], report.startedAt),
        after: procCell(a[i], report.finishedAt)
      })
    }
  }
  return rows
}

export interface OtherRow {
  name: string
  before: string
  after: string
  changed: boolean
}

function groupSummary(ps: ProcessRecord[]): string {
  if (ps.length === 0) return 'absent'
  const byStatus = new Map<string, number>()
  for (const p of ps) byStatus.set(p.status, (byStatus.get(p.status) ?? 0) + 1)
  return `${ps.length} (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')})`
}

export function otherRows(report: DeployReport): OtherRow[] {
  const own = new Set(report.ownNames)
  const names = [...new Set([...report.processes.before, ...report.processes.after].filter((p) => !own.has(p.name)).map((p) => p.name))].sort()
  const flagged = new Set(report.violations.map((v) => v.name))
  return names.map((name) => {
    const before = groupSummary(report.processes.before.filter((p) => p.name === name))
    const after = report.processes.after.length ? groupSummary(report.processes.after.filter((p) => p.name === name)) : '–'
    return { name, before, after, changed: flagged.has(name) }
  })
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** The job summary (Markdown). No environment values: only the report's fixed fields. */
export function renderSummary(report: DeployReport): string {
  const out: string[] = []
  out.push(`## pm2-safe-deploy: ${VERDICT[report.result]}`)
  out.push('')
  out.push(`**${esc(report.app)}${esc(report.environmentSuffix)}** · strategy \`${report.strategy}\` · ${esc(report.message)}`)
  if (report.violations.length > 0) {
    out.push('', '### Other apps that changed', '', '| app | what changed |', '|---|---|')
    for (const v of report.violations) out.push(`| ${esc(v.name)} | ${esc(v.detail)} |`)
  }
  if (report.warnings.length > 0) {
    out.push('', '### Warnings', '')
    for (const w of report.warnings) out.push(`- ${esc(w)}`)
  }
  out.push('', '### Own processes', '', '| name | pm_id | before | after |', '|---|---|---|---|')
  for (const r of ownRows(report)) out.push(`| ${esc(r.name)} | ${r.pmId} | ${esc(r.before)} | ${esc(r.after)} |`)
  const others = otherRows(report)
  out.push('', `### Other apps (${others.length})`, '')
  if (others.length === 0) out.push('None on this daemon.')
  else {
    out.push('| app | before | after | |', '|---|---|---|---|')
    for (const r of others) out.push(`| ${esc(r.name)} | ${esc(r.before)} | ${esc(r.after)} | ${r.changed ? '⚠️ changed' : 'unchanged'} |`)
  }
  out.push('', '### Commands sent', '')
  if (report.commands.length === 0) out.push(report.dryRun ? 'None (dry run). Planned:' : 'None.')
  for (const c of report.commands) out.push(`- \`${esc(c.command)}\` → exit ${c.exitCode} (${c.ms} ms)`)
  if (report.commands.length === 0) for (const p of report.plan) out.push(`- \`${esc(p.command)}\` (${esc(p.why)})`)
  if (report.checks.length > 0) {
    out.push('', '### Checks', '')
    for (const c of report.checks) out.push(`- ${c.ok ? '✅' : '❌'} ${esc(c.name)}: ${esc(c.detail)}`)
  }
  out.push('', '<details><summary>Workflow metadata and timings</summary>', '')
  const m = report.metadata
  if (m) {
    out.push('| field | value |', '|---|---|')
    for (const [k, v] of Object.entries(m)) if (v !== null && v !== '') out.push(`| ${k} | ${esc(String(v))} |`)
  }
  out.push('', '| phase | ms |', '|---|---|')
  for (const [k, v] of Object.entries(report.timings)) out.push(`| ${esc(k)} | ${v} |`)
  out.push('', '</details>', '')
  return out.join('\n')
}

function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())
}

/** The same verdict and tables for the log: Gitea before 1.27 shows no job summary. */
export function renderLogVerdict(report: DeployReport): string {
  const out: string[] = []
  out.push(`pm2-safe-deploy: ${VERDICT[report.result]} — ${report.app}${report.environmentSuffix}: ${report.message}`)
  for (const v of report.violations) out.push(`  ! ${v.name}: ${v.detail}`)
  for (const w of report.warnings) out.push(`  warning: ${w}`)
  out.push('', 'Own processes:')
  out.push(...pad([['name', 'pm_id', 'before', 'after'], ...ownRows(report).map((r) => [r.name, r.pmId, r.before, r.after])]).map((l) => '  ' + l))
  const others = otherRows(report)
  out.push('', `Other apps (${others.length}):`)
  if (others.length > 0)
    out.push(...pad([['app', 'before', 'after', ''], ...others.map((r) => [r.name, r.before, r.after, r.changed ? 'CHANGED' : ''])]).map((l) => '  ' + l))
  return out.join('\n')
}

// The releases kept on the host (promise 16), newest first: which is live, which `rollback-to:
// previous` would choose, which were rolled back from, when and from which commit and run each came.
import type { DeployReport } from '../report-schema.js'
import { md, mdCode, mdInline, mdTable } from './markdown.js'
import { pad } from './tables.js'

type Row = NonNullable<DeployReport['releases']>[number]

const HEADER = ['release', 'state', 'deployed', 'commit', 'run']

function cells(r: Row): string[] {
  return [r.path, r.state ?? '', r.deployedAt ?? 'not in the audit log', r.sha ? r.sha.slice(0, 12) : '', r.runUrl ?? r.runId ?? '']
}

const none = 'No release directory found beside the live one.'
const howTo = 'To make one live again, run the deploy with `rollback-to: previous` or `rollback-to: <release>`.'

/** The releases table for the job summary; nothing without `current-link`. */
export function releasesMd(report: DeployReport): string[] {
  const rows = report.releases
  if (!rows) return []
  const out = ['', `### Releases on this host (${rows.length}), newest first`, '']
  if (rows.length === 0) return [...out, none]
  out.push(...mdTable(HEADER, rows.map((r) => cells(r).map((c, i) => (i === 0 ? mdCode(c) : md(c))))))
  return [...out, '', mdInline(howTo)]
}

/** The same table for the log. */
export function releasesLog(report: DeployReport): string[] {
  const rows = report.releases
  if (!rows) return []
  const out = [`Releases on this host (${rows.length}), newest first:`]
  if (rows.length === 0) return [...out, `  ${none}`]
  return [...out, ...pad([HEADER, ...rows.map(cells)]).map((l) => '  ' + l), `  ${howTo}`]
}

// What a person and a workflow read of a fleet (promise 13): the `hosts` output, and the job
// summary and log verdict that open with a table of hosts, then each host's report. Pure.
// Host messages, releases and report paths come from the hosts: remote text, shown as text.
import { md, mdCode, mdTable } from './report/markdown.js'
import { fmtMs, pad } from './report/tables.js'
import type { DeployResult } from './report-schema.js'
import type { FleetVerdict, HostLine } from './rollout.js'
import { linesAsText } from './untrusted.js'

/** The `hosts` output: host label → `{ result, release, previous, report }` (the report's path on that host). */
export function hostsOutput(verdict: FleetVerdict): string {
  const out: Record<string, { result: DeployResult; release: string | null; previous: string | null; report: string | null }> = {}
  for (const h of verdict.hosts) out[h.label] = { result: h.result, release: h.release, previous: h.previous, report: h.report }
  return JSON.stringify(out)
}

const ICON: Record<DeployResult, string> = { deployed: '✅', 'dry-run': '🔍', aborted: '⛔', failed: '❌', 'rolled-back': '↩️' }

function batchWords(verdict: FleetVerdict): string {
  const batches = new Set(verdict.hosts.map((h) => h.batch))
  return batches.size === verdict.hosts.length ? ', one at a time' : `, in ${batches.size} batches`
}

export function fleetHeadline(verdict: FleetVerdict): string {
  const n = verdict.hosts.length
  switch (verdict.result) {
    case 'deployed':
      return `${ICON.deployed} Deployed to ${n} host${n === 1 ? '' : 's'}${batchWords(verdict)}`
    case 'dry-run':
      return `${ICON['dry-run']} Dry run on ${n} hosts: nothing changed`
    case 'aborted':
      return `${ICON.aborted} Aborted, nothing changed on any host: ${verdict.title}`
    case 'rolled-back':
      return `${ICON['rolled-back']} Rolled back: every host this run changed is back on its previous release`
    case 'failed':
      return `${ICON.failed} Failed: ${verdict.title}`
  }
}

/** A release path split into its directory and its name (`/srv/app/releases/v3` → `/srv/app/releases/`, `v3`). */
function splitRelease(path: string): { dir: string; name: string } {
  const trimmed = path.replace(/\/+$/, '')
  const at = trimmed.lastIndexOf('/')
  return at < 0 ? { dir: '', name: trimmed } : { dir: trimmed.slice(0, at + 1), name: trimmed.slice(at + 1) }
}

const nameOf = (path: string | null): string => (path ? splitRelease(path).name || path : '–')

/** The directories the releases live in, each with the hosts whose releases are there: said once, above the table. */
export function releaseDirs(verdict: FleetVerdict): { dir: string; hosts: string[] }[] {
  const out: { dir: string; hosts: string[] }[] = []
  for (const h of verdict.hosts) {
    for (const p of [h.previous, h.release]) {
      if (!p) continue
      const { dir } = splitRelease(p)
      if (!dir) continue
      const entry = out.find((e) => e.dir === dir) ?? out[out.push({ dir, hosts: [] }) - 1]!
      if (!entry.hosts.includes(h.label)) entry.hosts.push(h.label)
    }
  }
  return out
}

function releasesLine(verdict: FleetVerdict): string | null {
  const dirs = releaseDirs(verdict)
  if (dirs.length === 0) return null
  if (dirs.length === 1) return `Releases by their name under ${dirs[0]!.dir}`
  return `Releases by their name under ${dirs.map((d) => `${d.dir} (${d.hosts.join(', ')})`).join('; ')}`
}

/** What a host runs now, by release name. */
function nowCell(h: HostLine): string {
  if (h.state === 'not-contacted') return 'unchanged (not contacted)'
  if (h.state === 'unchanged') return h.release ? `${nameOf(h.release)} (unchanged)` : 'unchanged'
  return nameOf(h.release)
}

/** One table row per host: its batch, what it ran before, what this run tried, what it runs now, its time, and why it ended so. */
export function hostRows(verdict: FleetVerdict): string[][] {
  return verdict.hosts.map((h) => [h.label, String(h.batch ?? '–'), resultWord(h), nameOf(h.previous), h.state === 'not-contacted' ? '–' : nameOf(h.tried), nowCell(h), h.state === 'not-contacted' ? '–' : fmtMs(h.ms), h.why])
}

/** A host never contacted is not `aborted` to a reader (the `hosts` output keeps `aborted`). */
const resultWord = (h: HostLine): string => (h.state === 'not-contacted' ? 'not contacted' : h.result)

const HEADER = ['host', 'batch', 'result', 'ran before', 'tried', 'runs now', 'time', 'why']

/** What the fleet rollback of a host did, in words that cannot read as a contradiction. */
function rollbackWords(h: HostLine): string | null {
  if (!h.rollback) return null
  if (!h.rollback.reached) return 'Sent back by the fleet: the host was unreachable for its rollback, so it still runs what its deploy left.'
  if (h.rollback.result === 'deployed') return `Sent back by the fleet to ${nameOf(h.release)}, its previous release, and verified there.`
  return `Sent back by the fleet, but that rollback ended ${h.rollback.result}: ${h.rollback.message.split(/\r?\n/, 1)[0]}`
}

/** The job summary: the verdict and the failing host's cause, the table of hosts, then each host's own summary (as the host wrote it). */
export function renderFleetSummary(verdict: FleetVerdict, hostSummaries: ReadonlyMap<string, string>): string {
  const out = [`## ${md(fleetHeadline(verdict))}`, '']
  if (verdict.cause) out.push(`**Cause**, on ${mdCode(verdict.cause.host)}: ${mdCode(verdict.cause.line)}`, '')
  for (const l of verdict.message.split(/\r?\n/)) out.push(l.trim() === '' ? '>' : `> ${md(l)}`)
  out.push('', '### Hosts, in rollout order', '')
  const dirs = releaseDirs(verdict)
  if (dirs.length > 0) out.push(`Releases by their name under ${dirs.map((d) => `${mdCode(d.dir)}${dirs.length > 1 ? ` (${d.hosts.map(md).join(', ')})` : ''}`).join('; ')}`, '')
  out.push(...mdTable(HEADER, hostRows(verdict).map(([label, ...rest]) => [mdCode(label!), ...rest.map((c) => md(c))])))
  for (const h of verdict.hosts) {
    out.push('', `### Host ${mdCode(h.label)}: ${resultWord(h)}`, '', md(h.why))
    if (h.state === 'not-contacted') {
      out.push('', 'No connection, no lock, no audit line on this host.')
      continue
    }
    if (h.result !== 'deployed' && h.state !== 'previous') out.push('', `> ${md(h.message.split(/\r?\n/, 1)[0]!)}`)
    out.push('', `Report on the host: ${h.reports.length > 0 ? h.reports.map(mdCode).join(', then ') : 'none written'}`)
    const back = rollbackWords(h)
    if (back) out.push('', md(back))
    const summary = hostSummaries.get(h.label)
    if (summary) out.push('', '<details><summary>The host\'s job summary</summary>', '', summary, '', '</details>')
  }
  out.push('')
  return out.join('\n')
}

/** The same for the log (Gitea before 1.27 shows no summary): every line printed as text. */
export function renderFleetLogVerdict(verdict: FleetVerdict): string[] {
  const out = [`==== pm2-safe-deploy: ${fleetHeadline(verdict)} [${verdict.result}] ====`]
  if (verdict.cause) out.push(`  Cause, on ${verdict.cause.host}: ${verdict.cause.line}`)
  for (const l of verdict.message.split(/\r?\n/)) out.push(`  ${l}`)
  const rel = releasesLine(verdict)
  out.push(`Hosts, in rollout order${rel ? ` (${rel})` : ''}:`, ...pad([HEADER, ...hostRows(verdict)]).map((l) => `  ${l}`))
  for (const h of verdict.hosts) {
    if (h.state === 'not-contacted') {
      out.push(`${h.label}: ${h.why}`)
      continue
    }
    out.push(`${h.label}: ${resultWord(h)}: ${h.why}`)
    if (h.result !== 'deployed' && h.state !== 'previous') out.push(`  its own verdict: ${h.message.split(/\r?\n/, 1)[0]}`)
    const back = rollbackWords(h)
    if (back) out.push(`  ${back}`)
    out.push(`  report on the host: ${h.reports.join(', then ') || 'none written'}`)
  }
  return out.flatMap(linesAsText)
}

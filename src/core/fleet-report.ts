// What a person and a workflow read of a fleet (promise 13): the `hosts` output, and the job
// summary and log verdict that open with a table of hosts, then each host's report. Pure.
// Host messages, releases and report paths come from the hosts: remote text, shown as text.
import { md, mdCode, mdTable } from './report/markdown.js'
import { fmtMs, pad } from './report/tables.js'
import type { DeployResult } from './report-schema.js'
import { describeState, type FleetVerdict, type HostLine } from './rollout.js'
import { linesAsText } from './untrusted.js'

/** The `hosts` output: host label → `{ result, release, previous, report }` (the report's path on that host). */
export function hostsOutput(verdict: FleetVerdict): string {
  const out: Record<string, { result: DeployResult; release: string | null; previous: string | null; report: string | null }> = {}
  for (const h of verdict.hosts) out[h.label] = { result: h.result, release: h.release, previous: h.previous, report: h.report }
  return JSON.stringify(out)
}

const ICON: Record<DeployResult, string> = { deployed: '✅', 'dry-run': '🔍', aborted: '⛔', failed: '❌', 'rolled-back': '↩️' }

export function fleetHeadline(verdict: FleetVerdict): string {
  const n = verdict.hosts.length
  switch (verdict.result) {
    case 'deployed':
      return `${ICON.deployed} Deployed to ${n} host${n === 1 ? '' : 's'}, one at a time`
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

/** One table row per host: result, release before → after, time, and what it runs now. */
export function hostRows(verdict: FleetVerdict): string[][] {
  return verdict.hosts.map((h) => [h.label, h.result, releaseCell(h), h.state === 'not-contacted' ? '–' : fmtMs(h.ms), describeState(h)])
}

function releaseCell(h: HostLine): string {
  if (h.state === 'not-contacted') return 'not contacted'
  return `${h.previous ?? '–'} → ${h.release ?? '–'}`
}

const HEADER = ['host', 'result', 'release before → after', 'time', 'now']

/** The job summary: the verdict, the table of hosts, then each host's own summary (as the host wrote it). */
export function renderFleetSummary(verdict: FleetVerdict, hostSummaries: ReadonlyMap<string, string>): string {
  const out = [`## ${md(fleetHeadline(verdict))}`, '']
  for (const l of verdict.message.split(/\r?\n/)) out.push(l.trim() === '' ? '>' : `> ${md(l)}`)
  out.push('', '### Hosts, in rollout order', '')
  out.push(...mdTable(HEADER, hostRows(verdict).map(([label, result, release, time, now]) => [mdCode(label!), result!, md(release!), time!, md(now!)])))
  for (const h of verdict.hosts) {
    out.push('', `### Host ${mdCode(h.label)}: ${h.result}`, '')
    if (h.state === 'not-contacted') {
      out.push('Not contacted: no connection, no lock, no audit line on this host.')
      continue
    }
    out.push(`Report on the host: ${h.reports.length > 0 ? h.reports.map(mdCode).join(', then ') : 'none written'}`)
    if (h.rollback) out.push('', `Fleet rollback: ${h.rollback.reached ? h.rollback.result : 'host unreachable'} — ${md(h.rollback.message)}`)
    const summary = hostSummaries.get(h.label)
    if (summary) out.push('', '<details><summary>The host\'s job summary</summary>', '', summary, '', '</details>')
  }
  out.push('')
  return out.join('\n')
}

/** The same for the log (Gitea before 1.27 shows no summary): every line printed as text. */
export function renderFleetLogVerdict(verdict: FleetVerdict): string[] {
  const out = [`==== pm2-safe-deploy: ${fleetHeadline(verdict)} [${verdict.result}] ====`]
  for (const l of verdict.message.split(/\r?\n/)) out.push(`  ${l}`)
  out.push('Hosts, in rollout order:', ...pad([HEADER, ...hostRows(verdict)]).map((l) => `  ${l}`))
  for (const h of verdict.hosts) {
    if (h.state === 'not-contacted') {
      out.push(`${h.label}: not contacted`)
      continue
    }
    out.push(`${h.label}: ${h.result}: ${h.message.split(/\r?\n/, 1)[0]}`)
    if (h.rollback) out.push(`  fleet rollback: ${h.rollback.reached ? h.rollback.result : 'host unreachable'}: ${h.rollback.message.split(/\r?\n/, 1)[0]}`)
    out.push(`  report on the host: ${h.reports.join(', then ') || 'none written'}`)
  }
  return out.flatMap(linesAsText)
}

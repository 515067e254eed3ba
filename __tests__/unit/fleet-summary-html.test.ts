// The fleet's summary as GitHub shows it (issue 25, item 4): rendered by cmark-gfm, GitHub's own
// GFM renderer (Debian's package; .ci/run installs it), and read in the HTML as the person on
// call reads it: per host its batch, what it ran before, what was tried, what it runs now and
// why; the failing host's cause under the verdict; releases by name; no contradiction.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { describe, expect, test } from 'vitest'
import { batchesOf, parseHostsPerBatch } from '../../src/core/batches.js'
import { renderFleetSummary } from '../../src/core/fleet-report.js'
import type { DeployResult } from '../../src/core/report-schema.js'
import { rolloutVerdict, type HostEnd, type RolloutInput, type RolloutRecord } from '../../src/core/rollout.js'

const CMARK = '/usr/bin/cmark-gfm'
const missing = !fs.existsSync(CMARK)
if (missing && process.env.CI === 'true') throw new Error(`Under CI the summary must be rendered as GitHub does, but ${CMARK} is missing (apt-get install cmark-gfm)`)

const gfm = (markdown: string) => execFileSync(CMARK, ['--extension', 'table', '--extension', 'strikethrough', '--extension', 'autolink'], { input: markdown }).toString()

const DIR = '/home/deploy/apps/web/releases/'
const host = (i: number) => ({ label: `deploy@web-${i}` })
const hosts = [1, 2, 3, 4, 5].map(host)

function end(i: number, result: DeployResult, over: Partial<HostEnd> = {}): HostEnd {
  return { host: host(i), result, reached: true, switched: result === 'deployed', release: `${DIR}v3`, previous: `${DIR}v2`, report: `/home/deploy/.pm2/pm2-safe-deploy/runs/r${i}/report.json`, message: `deploy@web-${i}: ${result}`, ms: 8000, ...over }
}

/** `1, 2, 100%` on five hosts: web-1 deployed, then web-2 fails in batch 2 (its app logged the cause), web-3 is stopped before its switch; web-1 goes back. */
function failedFleet() {
  const sizes = parseHostsPerBatch('1, 2, 100%')
  if ('problem' in sizes) throw new Error(sizes.problem)
  const input: RolloutInput<{ label: string }> = { hosts, rollbackAcross: true, batches: batchesOf(hosts, sizes.sizes), release: '~/apps/web/releases/v3' }
  const fatal = 'deploy@web-2: rolled-back: Own processes failed verification: web-test errored\nweb-test logged: FATAL: cannot read /etc/web/config.json'
  const record: RolloutRecord = {
    deploys: [end(1, 'deployed'), end(2, 'rolled-back', { release: `${DIR}v2`, switched: false, message: fatal }), end(3, 'aborted', { release: `${DIR}v2`, message: 'deploy@web-3: aborted: Deploy interrupted by SIGTERM before any change' })],
    rollbacks: [end(1, 'deployed', { release: `${DIR}v2`, previous: `${DIR}v3`, message: 'deploy@web-1: deployed' })],
    cancelled: null,
    halted: ['deploy@web-3']
  }
  return rolloutVerdict(input, record)
}

/** The table's rows as cell texts (tags stripped). */
function rows(html: string): string[][] {
  const table = html.slice(html.indexOf('<table>'), html.indexOf('</table>'))
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim()))
}

describe.skipIf(missing)('the fleet summary, rendered as GitHub does', () => {
  const html = gfm(renderFleetSummary(failedFleet(), new Map([['deploy@web-2', '## ↩️ Rolled back web-test\n\n**Cause**: `web-test` logged `FATAL: cannot read /etc/web/config.json`']])))
  const table = rows(html)
  const byHost = Object.fromEntries(table.slice(1).map((r) => [r[0]!, Object.fromEntries(table[0]!.map((h, i) => [h, r[i]!]))]))

  test('the table says per host its batch, what it ran before, what this run tried, what it runs now, and why', () => {
    expect(table[0]).toEqual(['host', 'batch', 'result', 'ran before', 'tried', 'runs now', 'time', 'why'])
    expect(byHost['deploy@web-1']).toMatchObject({ batch: '1', result: 'rolled-back', 'ran before': 'v2', tried: 'v3', 'runs now': 'v2', why: 'sent back because deploy@web-2 failed' })
    expect(byHost['deploy@web-2']).toMatchObject({ batch: '2', result: 'rolled-back', 'ran before': 'v2', tried: 'v3', 'runs now': 'v2' })
    expect(byHost['deploy@web-2']!.why).toBe('failed here: web-test logged: FATAL: cannot read /etc/web/config.json')
    expect(byHost['deploy@web-3']).toMatchObject({ batch: '2', result: 'aborted', why: 'stopped before its switch because deploy@web-2 of its batch failed' })
    // Never contacted reads so, not `aborted`.
    for (const h of ['deploy@web-4', 'deploy@web-5']) expect(byHost[h]).toMatchObject({ batch: '3', result: 'not contacted', 'runs now': 'unchanged (not contacted)', why: 'never contacted: the rollout stopped in batch 2, when deploy@web-2 failed' })
  })

  test("the failing host's cause line is under the verdict, before the table and outside any collapsed block", () => {
    const cause = html.indexOf('FATAL: cannot read /etc/web/config.json')
    expect(cause).toBeGreaterThan(html.indexOf('<h2>'))
    expect(cause).toBeLessThan(html.indexOf('<table>'))
    expect(html.slice(0, cause)).not.toContain('<details>')
    expect(html).toMatch(/<strong>Cause<\/strong>, on <code>deploy@web-2<\/code>: <code>web-test logged: FATAL: cannot read \/etc\/web\/config.json<\/code>/)
  })

  test('releases by their name: the releases directory once, above the table, and no path in a cell', () => {
    const before = html.slice(0, html.indexOf('<table>'))
    expect(before).toContain(`Releases by their name under <code>${DIR}</code>`)
    expect(html.split(DIR).length - 1).toBe(1 + html.slice(html.indexOf('</table>')).split(DIR).length - 1)
    for (const r of table) for (const c of r) expect(c).not.toContain('/releases/')
  })

  test('no contradiction: a host sent back says where it went, no "deployed — host: deployed"', () => {
    expect(html).not.toMatch(/Fleet rollback: deployed/)
    expect(html).not.toMatch(/deploy@web-1: deployed/)
    expect(html).toContain('Sent back by the fleet to v2, its previous release, and verified there.')
  })

  test('a host refused before any change gets its reason under its heading', () => {
    const at = html.indexOf('<h3>Host <code>deploy@web-3</code>: aborted</h3>')
    expect(at).toBeGreaterThan(0)
    const section = html.slice(at, html.indexOf('<h3>', at + 5))
    expect(section).toContain('Deploy interrupted by SIGTERM before any change')
  })
})

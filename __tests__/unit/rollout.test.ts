// The pure fleet rollout (promise 13): which host next, where it stops, what goes back and in
// which order, the combined result, and the `hosts` output, summary and log that report it.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { hostsOutput, renderFleetLogVerdict, renderFleetSummary } from '../../src/core/fleet-report.js'
import type { DeployResult } from '../../src/core/report-schema.js'
import { combinedResult, hostWords, nextStep, rolloutVerdict, type HostEnd, type RolloutInput, type RolloutRecord } from '../../src/core/rollout.js'

type Host = { label: string }
const hosts = (n: number): Host[] => Array.from({ length: n }, (_, i) => ({ label: `web-${i + 1}` }))

const REL = (label: string) => `/srv/app/releases/new-${label}`
const OLD = (label: string) => `/srv/app/releases/old-${label}`

function end(host: Host, result: DeployResult, over: Partial<HostEnd> = {}): HostEnd {
  const switched = result === 'deployed' || result === 'failed'
  return {
    host,
    result,
    reached: true,
    switched,
    release: result === 'aborted' || result === 'rolled-back' ? OLD(host.label) : REL(host.label),
    previous: OLD(host.label),
    report: `/home/${host.label}/.pm2/pm2-safe-deploy/runs/r/report.json`,
    message: `${host.label} ${result}`,
    ms: 1000,
    ...over
  }
}

/** Drives the planner to the end: `deployOf` and `rollbackOf` say how each host's run ends. */
function drive(
  input: RolloutInput<Host>,
  deployOf: (h: Host) => HostEnd,
  rollbackOf: (h: Host, release: string) => HostEnd,
  cancelAt = -1
): { record: RolloutRecord; contacted: string[]; rolledBack: string[] } {
  const record: RolloutRecord = { deploys: [], rollbacks: [], cancelled: null }
  const contacted: string[] = []
  const rolledBack: string[] = []
  for (let guard = 0; guard < 100; guard++) {
    const step = nextStep(input, record)
    if (step.kind === 'done') break
    if (step.kind === 'deploy') {
      for (const { host } of step.hosts) {
        contacted.push(host.label)
        record.deploys.push(deployOf(host))
      }
      if (cancelAt >= 0 && record.deploys.length - 1 >= cancelAt) record.cancelled = { during: step.hosts.map((x) => x.host.label).join(', ') }
    } else {
      for (const { host, release } of step.hosts) {
        rolledBack.push(host.label)
        record.rollbacks.push(rollbackOf(host, release))
      }
    }
  }
  return { record, contacted, rolledBack }
}

const back = (h: Host, release: string) => end(h, 'deployed', { release, previous: REL(h.label), switched: true })

describe('the rollout plan', () => {
  test('all hosts deployed, in order: deployed', () => {
    const input = { hosts: hosts(3), rollbackAcross: true }
    const { record, contacted, rolledBack } = drive(input, (h) => end(h, 'deployed'), back)
    expect(contacted).toEqual(['web-1', 'web-2', 'web-3'])
    expect(rolledBack).toEqual([])
    expect(rolloutVerdict(input, record).result).toBe('deployed')
  })

  test('the second host rolls itself back: the first goes back to its previous release, the third is never contacted', () => {
    const input = { hosts: hosts(3), rollbackAcross: true }
    const { record, contacted, rolledBack } = drive(input, (h) => end(h, h.label === 'web-2' ? 'rolled-back' : 'deployed'), back)
    expect(contacted).toEqual(['web-1', 'web-2'])
    expect(rolledBack).toEqual(['web-1'])
    const v = rolloutVerdict(input, record)
    expect(v.result).toBe('rolled-back')
    expect(v.hosts.map((h) => h.state)).toEqual(['previous', 'previous', 'not-contacted'])
    expect(v.hosts[0]).toMatchObject({ result: 'rolled-back', release: OLD('web-1'), previous: OLD('web-1') })
    expect(v.message).toMatch(/web-2 ended rolled-back/)
    expect(v.message).toMatch(/Not contacted: web-3/)
  })

  test('the rollback goes to the release each host ran before, last first, with the reason', () => {
    const input = { hosts: hosts(4), rollbackAcross: true }
    const record: RolloutRecord = { deploys: [end(hosts(4)[0]!, 'deployed'), end(hosts(4)[1]!, 'deployed'), end(hosts(4)[2]!, 'failed')], rollbacks: [], cancelled: null }
    const step = nextStep(input, record)
    expect(step).toMatchObject({ kind: 'rollback', hosts: [{ host: { label: 'web-2' }, release: OLD('web-2') }] })
    expect(step.kind === 'rollback' && step.reason).toMatch(/fleet rollback: host web-3 ended failed/)
  })

  test('the first host unreachable: aborted, nothing contacted after it', () => {
    const input = { hosts: hosts(3), rollbackAcross: true }
    const { record, contacted } = drive(input, (h) => end(h, 'aborted', { reached: false, message: 'ssh: connect to host refused' }), back)
    expect(contacted).toEqual(['web-1'])
    const v = rolloutVerdict(input, record)
    expect(v.result).toBe('aborted')
    expect(v.message).toMatch(/Nothing changed on any host/)
  })

  test('a host unreachable for its rollback: failed, naming it with what it runs', () => {
    const input = { hosts: hosts(3), rollbackAcross: true }
    const { record } = drive(
      input,
      (h) => end(h, h.label === 'web-3' ? 'rolled-back' : 'deployed'),
      (h, release) => (h.label === 'web-2' ? end(h, 'aborted', { reached: false, release: null, previous: null, report: null, message: 'unreachable' }) : back(h, release))
    )
    const v = rolloutVerdict(input, record)
    expect(v.result).toBe('failed')
    expect(v.hosts[1]).toMatchObject({ state: 'rollback-failed', result: 'failed', release: REL('web-2') })
    expect(v.message).toContain(`web-2: unreachable for its rollback (runs ${REL('web-2')})`)
    expect(v.message).toContain(`web-1: back on its previous release ${OLD('web-1')}, verified`)
  })

  test('without rollback across hosts, a failure leaves the fleet mixed: failed', () => {
    const input = { hosts: hosts(3), rollbackAcross: false }
    const { record, rolledBack } = drive(input, (h) => end(h, h.label === 'web-2' ? 'rolled-back' : 'deployed'), back)
    expect(rolledBack).toEqual([])
    const v = rolloutVerdict(input, record)
    expect(v.result).toBe('failed')
    expect(v.message).toMatch(/mixed releases/)
  })

  test('cancel during a host: stop after it, no rollback, and say so', () => {
    const input = { hosts: hosts(3), rollbackAcross: true }
    const { record, contacted, rolledBack } = drive(input, (h) => end(h, 'deployed'), back, 1)
    expect(contacted).toEqual(['web-1', 'web-2'])
    expect(rolledBack).toEqual([])
    const v = rolloutVerdict(input, record)
    expect(v.result).toBe('failed')
    expect(v.title).toBe('Fleet deploy cancelled')
    expect(v.message).toMatch(/^Cancelled during web-2/)
  })

  test('a first deploy with no previous release cannot go back: named, failed', () => {
    const input = { hosts: hosts(2), rollbackAcross: true }
    const { record, rolledBack } = drive(input, (h) => (h.label === 'web-1' ? end(h, 'deployed', { previous: null }) : end(h, 'failed')), back)
    expect(rolledBack).toEqual([])
    const v = rolloutVerdict(input, record)
    expect(v.result).toBe('failed')
    expect(v.message).toMatch(/no previous release to go back to/)
  })

  test('dry run on every host: dry-run, all contacted', () => {
    const input = { hosts: hosts(3), rollbackAcross: true }
    const { record, contacted } = drive(input, (h) => end(h, 'dry-run', { switched: false }), back)
    expect(contacted).toHaveLength(3)
    expect(rolloutVerdict(input, record).result).toBe('dry-run')
  })
})

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

const RESULTS: DeployResult[] = ['deployed', 'aborted', 'failed', 'rolled-back']
const arbHostEnd = fc.record({
  result: fc.constantFrom(...RESULTS, 'deployed', 'deployed'),
  switched: fc.boolean(),
  hasPrevious: fc.boolean(),
  reached: fc.boolean()
})
const arbRollbackEnd = fc.record({ result: fc.constantFrom(...RESULTS), reached: fc.boolean() })
const arbFleet = fc.record({
  n: fc.integer({ min: 1, max: 6 }),
  rollbackAcross: fc.boolean(),
  deploys: fc.array(arbHostEnd, { minLength: 6, maxLength: 6 }),
  rollbacks: fc.array(arbRollbackEnd, { minLength: 6, maxLength: 6 }),
  cancelAt: fc.integer({ min: -1, max: 6 })
})

type Fleet = typeof arbFleet extends fc.Arbitrary<infer T> ? T : never

function simulate(f: Fleet) {
  const input = { hosts: hosts(f.n), rollbackAcross: f.rollbackAcross }
  const idx = (h: Host) => Number(h.label.slice(4)) - 1
  const deployOf = (h: Host): HostEnd => {
    const d = f.deploys[idx(h)]!
    // An aborted host was maybe never reached; every other result means it was.
    return end(h, d.result, { switched: d.result === 'deployed' || d.result === 'failed' ? d.switched : false, previous: d.hasPrevious || d.result === 'rolled-back' ? OLD(h.label) : null, reached: d.result === 'aborted' ? d.reached : true })
  }
  const rollbackOf = (h: Host, release: string): HostEnd => {
    const r = f.rollbacks[idx(h)]!
    const reached = r.result === 'aborted' ? r.reached : true
    return r.result === 'deployed' ? back(h, release) : end(h, r.result, { reached, release: r.result === 'aborted' ? null : REL(h.label) })
  }
  return { input, ...drive(input, deployOf, rollbackOf, f.cancelAt) }
}

describe('rollout properties', () => {
  test('a stopped rollout never contacts a host after the one that stopped it', () => {
    fc.assert(
      fc.property(arbFleet, (f) => {
        const { record, contacted } = simulate(f)
        const stop = record.deploys.findIndex((o) => o.result !== 'deployed')
        const last = stop === -1 ? (record.cancelled ? record.deploys.length - 1 : f.n - 1) : stop
        expect(contacted).toEqual(hosts(f.n).slice(0, last + 1).map((h) => h.label))
        if (record.cancelled) expect(contacted.length).toBe(Math.min(f.cancelAt + 1, f.n))
      })
    )
  })

  test('every switched host appears in the rollback exactly once, last first; no other host does', () => {
    fc.assert(
      fc.property(arbFleet, (f) => {
        const { record, rolledBack } = simulate(f)
        const stopped = record.deploys.some((o) => o.result !== 'deployed')
        const expected =
          f.rollbackAcross && stopped && !record.cancelled
            ? record.deploys.filter((o) => o.result === 'deployed' && o.switched && o.previous !== null).map((o) => o.host.label).reverse()
            : []
        expect(rolledBack).toEqual(expected)
        expect(new Set(rolledBack).size).toBe(rolledBack.length)
      })
    )
  })

  test('result rules: deployed iff every host is; aborted iff none changed; rolled-back iff every changed host is back', () => {
    fc.assert(
      fc.property(arbFleet, (f) => {
        const { input, record } = simulate(f)
        const v = rolloutVerdict(input, record)
        expect(v.hosts.map((h) => h.label)).toEqual(input.hosts.map((h) => h.label))
        const changed = v.hosts.filter((h) => h.state !== 'not-contacted' && h.state !== 'unchanged')
        if (v.hosts.every((h) => h.result === 'deployed')) expect(v.result).toBe('deployed')
        else if (changed.length === 0) expect(v.result).toBe('aborted')
        else if (changed.every((h) => h.state === 'previous')) expect(v.result).toBe('rolled-back')
        else expect(v.result).toBe('failed')
        // Deployed means every host was contacted and stayed on the new release.
        if (v.result === 'deployed') expect(record.deploys).toHaveLength(f.n)
        // A failed fleet names every host's state.
        if (v.result === 'failed') for (const h of v.hosts) expect(v.message).toContain(`${h.label}: `)
        expect(combinedResult(v.hosts)).toBe(v.result)
      })
    )
  })

  test('a host back on its previous release runs exactly that release', () => {
    fc.assert(
      fc.property(arbFleet, (f) => {
        const { input, record } = simulate(f)
        for (const h of rolloutVerdict(input, record).hosts) if (h.state === 'previous') expect(h.release).toBe(h.previous)
      })
    )
  })
})

describe('reporting a fleet', () => {
  test("a host's verdict is told once: its own `label: result: ` opening is dropped", () => {
    expect(hostWords('deploy@web-1', 'deploy@web-1: aborted: No PM2 daemon answers.')).toBe('No PM2 daemon answers.')
    expect(hostWords('deploy@web-1', 'deploy@web-1: deployed')).toBe('deploy@web-1: deployed')
    expect(hostWords('deploy@web-1', 'cannot connect')).toBe('cannot connect')
  })

  const input = { hosts: hosts(3), rollbackAcross: true }
  const { record } = drive(input, (h) => end(h, h.label === 'web-2' ? 'rolled-back' : 'deployed', { message: h.label === 'web-2' ? '::error::pwned\nsecond line' : 'ok' }), back)
  const verdict = rolloutVerdict(input, record)

  test('the hosts output: host → { result, release, previous, report }, every host', () => {
    const out = JSON.parse(hostsOutput(verdict)) as Record<string, unknown>
    expect(Object.keys(out)).toEqual(['web-1', 'web-2', 'web-3'])
    expect(out['web-1']).toEqual({ result: 'rolled-back', release: OLD('web-1'), previous: OLD('web-1'), report: '/home/web-1/.pm2/pm2-safe-deploy/runs/r/report.json' })
    expect(out['web-3']).toEqual({ result: 'aborted', release: null, previous: null, report: null })
  })

  test('the summary opens with the table of hosts, then each host; the host summary is kept', () => {
    const md = renderFleetSummary(verdict, new Map([['web-1', '## ✅ Deployed app']]))
    const lines = md.split('\n')
    expect(lines[0]).toMatch(/^## ↩️ Rolled back/)
    const table = lines.findIndex((l) => l.startsWith('| host |'))
    expect(table).toBeGreaterThan(0)
    expect(lines[table + 2]).toContain('| `web-1` | 1 | rolled-back | old-web-1 | – | old-web-1 | 2.0 s | sent back because web-2 failed |')
    expect(lines[table + 4]).toContain('unchanged (not contacted)')
    expect(md).toContain('Releases by their name under `/srv/app/releases/`')
    expect(md.indexOf('### Host `web-1`')).toBeGreaterThan(table)
    expect(md).toContain('## ✅ Deployed app')
    expect(md).toContain('No connection, no lock, no audit line on this host.')
  })

  test('the log verdict: same table, and no remote line can act as a workflow command', () => {
    const log = renderFleetLogVerdict(verdict)
    expect(log[0]).toMatch(/^==== pm2-safe-deploy: ↩️ Rolled back.*\[rolled-back\] ====$/)
    expect(log.some((l) => /^\s*host\s+batch\s+result\s+ran before\s+tried\s+runs now\s+time\s+why/.test(l))).toBe(true)
    for (const l of log) expect(l).not.toMatch(/^\s*::/)
    expect(log.join('\n')).toContain('web-2: rolled-back: ')
  })
})

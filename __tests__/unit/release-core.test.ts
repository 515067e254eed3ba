// The pure release rules: paths through the link after a switch, which releases a
// prune removes, and which own processes run something other than the file says.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { intoRelease, isWithin, planPrune, staleProcesses, throughLinkAfterSwitch, type RunningFacts, type Wanted } from '../../src/core/release.js'

const LINK = '/var/www/app/current'
const R1 = '/var/www/app/releases/r1'
const R2 = '/var/www/app/releases/r2'

describe('paths through the link after the switch', () => {
  test('the link and paths below it go to the new release; others are unchanged', () => {
    expect(throughLinkAfterSwitch(LINK, LINK, R2)).toBe(R2)
    expect(throughLinkAfterSwitch(`${LINK}/server.js`, LINK, R2)).toBe(`${R2}/server.js`)
    expect(throughLinkAfterSwitch(`${LINK}-old/server.js`, LINK, R2)).toBe(`${LINK}-old/server.js`)
    expect(throughLinkAfterSwitch(`${R1}/server.js`, LINK, R2)).toBe(`${R1}/server.js`)
    expect(throughLinkAfterSwitch('/srv/real/current/x', LINK, R2, '/srv/real/current')).toBe(`${R2}/x`)
    expect(intoRelease(`${R2}/app/server.js`, R2, R1)).toBe(`${R1}/app/server.js`)
    expect(intoRelease('/usr/bin/node', R2, R1)).toBe('/usr/bin/node')
  })

  test('property: a mapped path is inside the release exactly when it went through the link', () => {
    const seg = fc.stringMatching(/^[a-z0-9._-]{1,6}$/).filter((s) => s !== '.' && s !== '..')
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 4 }), fc.boolean(), (rest, viaLink) => {
        const p = [viaLink ? LINK : '/srv/other', ...rest].join('/')
        const mapped = throughLinkAfterSwitch(p, LINK, R2)
        expect(isWithin(mapped, R2)).toBe(viaLink)
        if (!viaLink) expect(mapped).toBe(p)
      })
    )
  })
})

describe('keep-releases prune', () => {
  const rel = (n: number) => `/var/www/app/releases/r${n}`
  // Newest deploy first, as the audit log orders them.
  const releases = [6, 5, 4, 3, 2, 1].map(rel)
  const SHARED = '/var/www/app/shared'

  test('keeps the N most recently deployed, the live and previous ones, and any directory a process runs from', () => {
    const out = planPrune({
      releases,
      keep: 2,
      live: rel(6),
      previous: rel(3),
      protect: [SHARED],
      inUse: [{ name: 'other-app', pmId: 7, path: `${rel(1)}/bin/server.js` }]
    })
    const removed = out.filter((d) => d.remove).map((d) => d.path)
    expect(removed).toEqual([rel(4), rel(2)])
    expect(out.find((d) => d.path === rel(1))?.reason).toMatch(/other-app \(pm_id 7\) runs from it/)
    expect(out.find((d) => d.path === rel(3))?.reason).toMatch(/previous release/)
  })

  test('keep 0 removes nothing; r1 is not "within" r10; shared-dir and what holds it are never removed', () => {
    expect(planPrune({ releases, keep: 0, live: rel(6), previous: null, protect: [], inUse: [] }).some((d) => d.remove)).toBe(false)
    const out = planPrune({ releases: [rel(11), rel(10), rel(1)], keep: 1, live: rel(11), previous: null, protect: [], inUse: [{ name: 'x', pmId: 0, path: rel(10) }] })
    expect(out.filter((d) => d.remove).map((d) => d.path)).toEqual([rel(1)])
    const odd = planPrune({ releases: [rel(9), SHARED, '/var/www/app', `${SHARED}/x`], keep: 1, live: rel(9), previous: null, protect: [SHARED], inUse: [] })
    expect(odd.filter((d) => d.remove)).toEqual([])
  })

  test('property: never removes the live, the previous, shared-dir, a used directory, or one of the N newest', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
        fc.nat(6),
        fc.nat(11),
        fc.option(fc.nat(11)),
        fc.array(fc.tuple(fc.nat(11), fc.boolean()), { maxLength: 4 }),
        fc.nat(11),
        (ns, keep, liveIdx, prevIdx, used, sharedIdx) => {
          const rs = ns.map((n) => `/r/${n}`)
          const live = rs[liveIdx % rs.length]!
          const previous = prevIdx === null ? null : rs[prevIdx % rs.length]!
          const shared = rs[sharedIdx % rs.length]!
          const inUse = used.map(([i, deep], k) => ({ name: `p${k}`, pmId: k, path: rs[i % rs.length]! + (deep ? '/sub/x.js' : '') }))
          const out = planPrune({ releases: rs, keep, live, previous, protect: [shared], inUse })
          const newest = rs.slice(0, keep)
          for (const d of out.filter((x) => x.remove)) {
            expect(d.path).not.toBe(live)
            expect(d.path).not.toBe(previous)
            expect(d.path).not.toBe(shared)
            expect(inUse.some((u) => isWithin(u.path, d.path))).toBe(false)
            expect(newest).not.toContain(d.path)
          }
          if (keep === 0) expect(out.some((d) => d.remove)).toBe(false)
          expect(out).toHaveLength(rs.length)
        }
      )
    )
  })
})

describe('runs what the file says', () => {
  const SWITCH = 1_000_000
  const wanted = new Map<string, Wanted>([['web', { script: `${R2}/server.js`, cwd: R2, interpreter: 'node' }]])
  const fact = (over: Partial<RunningFacts>): RunningFacts => ({
    pmId: 0,
    name: 'web',
    pid: 42,
    procCwd: R2,
    pmCwd: R2,
    realPmCwd: R2,
    script: `${R2}/server.js`,
    realScript: `${R2}/server.js`,
    interpreter: 'node',
    startedAt: SWITCH + 10,
    ...over
  })
  const opts = { switchedAt: SWITCH, releaseDir: R2 }

  test('a process started after the switch from the new release is fine', () => {
    expect(staleProcesses([fact({})], wanted, opts)).toEqual([])
    expect(staleProcesses([fact({ interpreter: '/usr/bin/node' })], wanted, opts)).toEqual([])
  })

  test('reload kept the old release: real cwd and script in r1, though PM2 updated the env', () => {
    const [s] = staleProcesses([fact({ procCwd: R1, realPmCwd: R1, realScript: `${R1}/server.js`, startedAt: SWITCH + 5 })], wanted, opts)
    expect(s?.message).toMatch(/web \(pm_id 0, pid 42\) runs from .*r1, the file says .*r2; runs .*r1\/server.js/)
  })

  test('paths through the link look new, but the process was spawned before the switch', () => {
    const [s] = staleProcesses(
      [fact({ procCwd: null, pmCwd: LINK, realPmCwd: R2, script: `${LINK}/server.js`, realScript: `${R2}/server.js`, startedAt: SWITCH - 1 })],
      wanted,
      opts
    )
    expect(s?.message).toMatch(/before the switch to .*r2: it still runs the previous release's code/)
  })

  test('the /proc cwd wins over PM2 pm_cwd; interpreter changes count; other apps are not judged', () => {
    expect(staleProcesses([fact({ procCwd: R1 })], wanted, opts)).toHaveLength(1)
    expect(staleProcesses([fact({ interpreter: 'bun' })], wanted, opts)[0]?.message).toMatch(/runs with bun, the file says node/)
    expect(staleProcesses([fact({ name: 'other', procCwd: '/elsewhere' })], wanted, opts)).toEqual([])
  })

  test('no interpreter in the file: whatever PM2 chose is not a change', () => {
    const free = new Map<string, Wanted>([['web', { script: `${R2}/server.js`, cwd: R2, interpreter: null }]])
    expect(staleProcesses([fact({ interpreter: 'python3' })], free, opts)).toEqual([])
  })

  test('without a switch (a redeploy, or no release inputs) the start time does not matter', () => {
    expect(staleProcesses([fact({ startedAt: 1 })], wanted, { switchedAt: null, releaseDir: null })).toEqual([])
    expect(staleProcesses([fact({ startedAt: null })], wanted, opts)[0]?.message).toMatch(/does not say when it started/)
  })

  test('property: a process whose real cwd or script is outside the wanted ones is always reported', () => {
    fc.assert(
      fc.property(fc.constantFrom(R1, R2, '/srv/x'), fc.constantFrom(R1, R2, '/srv/x'), fc.integer({ min: SWITCH - 5, max: SWITCH + 5 }), (cwd, dir, startedAt) => {
        const f = fact({ procCwd: cwd, realScript: `${dir}/server.js`, startedAt })
        const stale = staleProcesses([f], wanted, opts).length === 1
        expect(stale).toBe(cwd !== R2 || dir !== R2 || startedAt < SWITCH)
      })
    )
  })
})

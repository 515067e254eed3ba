// The releases of one app as its audit log tells them (promises 15 and 16): knownReleases,
// `rollback-to: previous` (previousRelease) and the releases table (keptReleases). Pure: events in.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { keptReleases, knownReleases, previousRelease, type ReleaseEvent } from '../../src/core/release-history.js'

const LINK = '/srv/app/current'
const r = (n: number) => `/srv/app/releases/r${n}`

/** A small history, one event per run, at increasing times. */
class History {
  readonly events: ReleaseEvent[] = []
  live: string | null = null
  private t = 0
  private push(e: Omit<ReleaseEvent, 'time' | 'link' | 'sha' | 'runId' | 'runUrl'>): void {
    this.t++
    this.events.push({ ...e, time: new Date(Date.UTC(2026, 0, 1, 0, 0, this.t)).toISOString(), link: LINK, sha: `sha${this.t}`, runId: String(this.t), runUrl: null })
    this.live = e.live
  }
  deploy(target: string, kind = 'deploy'): this {
    this.push({ result: 'deployed', target, previous: this.live, live: target, switched: this.live !== target, rolledBack: false, kind })
    return this
  }
  /** The new release was unhealthy: switched, then switched back. */
  unhealthy(target: string, kind = 'deploy'): this {
    this.push({ result: 'rolled-back', target, previous: this.live, live: this.live, switched: true, rolledBack: true, kind })
    return this
  }
  aborted(target: string): this {
    this.push({ result: 'aborted', target, previous: this.live, live: this.live, switched: false, rolledBack: false, kind: 'deploy' })
    return this
  }
  /** `rollback-to: previous`, as the action resolves and records it. */
  rollbackToPrevious(exists: (p: string) => boolean = () => true): string | null {
    const choice = previousRelease(this.events, this.live, exists)
    if (!('path' in choice)) return null
    this.deploy(choice.path, 'rollback-to')
    return choice.path
  }
}

const all = () => true

describe('previousRelease (rollback-to: previous)', () => {
  test('repeated rollback-to previous walks back r3 → r2 → r1, then there is none', () => {
    const h = new History().deploy(r(1)).deploy(r(2)).deploy(r(3))
    expect(h.rollbackToPrevious()).toBe(r(2))
    expect(h.rollbackToPrevious()).toBe(r(1))
    const none = previousRelease(h.events, h.live, all)
    expect(none).toMatchObject({ title: 'No release to roll back to' })
    expect('refused' in none && none.refused).toMatch(/r2 \(rolled back from at .*\).*r3 \(rolled back from at /)
  })

  test('a release rolled back from as unhealthy is skipped; one that failed preflight was never verified', () => {
    const h = new History().deploy(r(1)).deploy(r(2)).unhealthy(r(3)).deploy(r(4)).aborted(r(5))
    expect(previousRelease(h.events, r(4), all)).toEqual({ path: r(2) })
  })

  test('a release deployed and verified again later is a candidate again', () => {
    const h = new History().deploy(r(1)).deploy(r(2)).deploy(r(3))
    h.rollbackToPrevious() // r2 live, r3 rolled back from
    h.deploy(r(3)) // fixed and deployed again
    expect(previousRelease(h.events, r(3), all)).toEqual({ path: r(2) })
  })

  test('a release no longer on disk is skipped', () => {
    const h = new History().deploy(r(1)).deploy(r(2)).deploy(r(3))
    expect(previousRelease(h.events, r(3), (p) => p !== r(2))).toEqual({ path: r(1) })
  })

  test('a link switched by hand is refused, naming both releases', () => {
    const h = new History().deploy(r(1)).deploy(r(2))
    const c = previousRelease(h.events, r(1), all)
    expect(c).toMatchObject({ title: 'Live release switched by hand' })
    expect('refused' in c && c.refused).toContain(`current-link names ${r(1)}, but the audit log's last run left ${r(2)} live`)
  })

  test('no history, or no live release: refused, saying so', () => {
    expect(previousRelease([], r(1), all)).toMatchObject({ refused: expect.stringMatching(/records no deploy/) })
    expect(previousRelease(new History().deploy(r(1)).events, null, all)).toMatchObject({ refused: expect.stringMatching(/names no release/) })
  })

  // Runs of deploys (healthy or not), rollbacks on demand and removals: `previous` keeps its promise whatever happened.
  const step = fc.oneof(
    fc.record({ op: fc.constant('deploy' as const), n: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ op: fc.constant('unhealthy' as const), n: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ op: fc.constant('back' as const), n: fc.constant(0) })
  )

  test('property: the choice exists, is not live, was verified before the live one went live, and was not rolled back from since', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), fc.subarray([1, 2, 3, 4, 5, 6]), (steps, gone) => {
        const exists = (p: string) => !gone.some((g) => p === r(g))
        const h = new History().deploy(r(0))
        for (const s of steps) {
          if (s.op === 'deploy') h.deploy(r(s.n))
          else if (s.op === 'unhealthy' && r(s.n) !== h.live) h.unhealthy(r(s.n))
          else if (s.op === 'back') h.rollbackToPrevious(exists)
        }
        const c = previousRelease(h.events, h.live, exists)
        if (!('path' in c)) return
        const known = knownReleases(h.events)
        const chosen = known.find((k) => k.path === c.path)!
        const live = known.find((k) => k.path === h.live)!
        expect(c.path).not.toBe(h.live)
        expect(exists(c.path)).toBe(true)
        expect(chosen.rolledBackFromAt).toBeNull()
        expect(chosen.deployedAt! < live.deployedAt!).toBe(true)
        // The newest such: no other candidate was verified later.
        for (const k of known) {
          if (k.path !== h.live && k.deployedAt && !k.rolledBackFromAt && exists(k.path) && k.deployedAt < live.deployedAt!) expect(k.deployedAt <= chosen.deployedAt!).toBe(true)
        }
      })
    )
  })

  test('property: after n healthy deploys, k rollbacks on demand leave the (n-k)th live, and never pick a release twice', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 10 }), (n, k) => {
        const h = new History()
        for (let i = 1; i <= n; i++) h.deploy(r(i))
        const picked: string[] = []
        for (let i = 0; i < k; i++) {
          const p = h.rollbackToPrevious()
          if (p) picked.push(p)
        }
        expect(picked.length).toBe(Math.min(k, n - 1))
        expect(new Set(picked).size).toBe(picked.length)
        expect(h.live).toBe(r(n - Math.min(k, n - 1)))
      })
    )
  })
})

describe('knownReleases', () => {
  test('newest verified deploy first; a rollback on demand marks the release it left as rolled back from', () => {
    const h = new History().deploy(r(1)).deploy(r(2)).deploy(r(3))
    h.rollbackToPrevious()
    const known = knownReleases(h.events)
    expect(known.map((k) => k.path)).toEqual([r(2), r(3), r(1)])
    expect(known.find((k) => k.path === r(3))!.rolledBackFromAt).not.toBeNull()
    expect(known.find((k) => k.path === r(2))).toMatchObject({ sha: 'sha2', runId: '2', deployedAt: h.events[3]!.time, rolledBackFromAt: null })
  })

  test('a rollback on demand that was itself unhealthy marks its target, not the live one', () => {
    const h = new History().deploy(r(1)).deploy(r(2)).unhealthy(r(1), 'rollback-to')
    const known = knownReleases(h.events)
    expect(known.find((k) => k.path === r(1))!.rolledBackFromAt).not.toBeNull()
    expect(known.find((k) => k.path === r(2))!.rolledBackFromAt).toBeNull()
  })
})

describe('keptReleases (the releases table)', () => {
  test('what is on disk, newest first, with live, previous and rolled back from', () => {
    const h = new History().deploy(r(1)).deploy(r(2)).deploy(r(3))
    h.rollbackToPrevious()
    const disk = [r(1), r(2), r(3), r(9)].map((p, i) => ({ path: p, mtimeMs: i }))
    const rows = keptReleases(h.events, h.live, disk)
    expect(rows.map((x) => [x.path, x.state])).toEqual([
      [r(2), 'live'],
      [r(3), 'rolled back from'],
      [r(1), 'previous'],
      [r(9), null]
    ])
    expect(rows[3]).toMatchObject({ deployedAt: null, sha: null })
  })

  test('property: every directory on disk is listed exactly once, and at most one is live and one previous', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 12 }), fc.subarray([1, 2, 3, 4, 5, 6, 7]), (deploys, onDisk) => {
        const h = new History()
        for (const n of deploys) h.deploy(r(n))
        const disk = onDisk.map((n) => ({ path: r(n), mtimeMs: n }))
        const rows = keptReleases(h.events, h.live, disk)
        expect(rows.map((x) => x.path).sort()).toEqual(disk.map((d) => d.path).sort())
        expect(rows.filter((x) => x.state === 'live').length).toBeLessThanOrEqual(1)
        expect(rows.filter((x) => x.state === 'previous').length).toBeLessThanOrEqual(1)
      })
    )
  })
})

// Property tests of the identity check (SPEC "Who owns what") over generated layouts built on
// disk: releases behind a `current` link (relative or absolute, switched by hand or given as
// current-link/release-dir), plain checkouts, a symlinked parent leading elsewhere, other
// projects beside the app. Whatever the layout, a process with an own name is another
// project's exactly when its real cwd and real script both lie outside the deploy's trees.
import fc from 'fast-check'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { isForeign, judgeIdentity, movedWarnings, ownDirectories, type OwnNamedProcess } from '../../src/core/identity.js'
import { ownNamedProcesses, resolveDeployPath } from '../../src/shell/deploy-paths.js'
import { isWithin } from '../../src/core/release.js'
import { processRecord } from '../helpers/process-record.js'

const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'identity-property-')))
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))
let runs = 0

type Mode = 'release-inputs' | 'link-wd' | 'plain'
type Place = { kind: 'release'; index: number } | { kind: 'wd' } | { kind: 'app-cwd' } | { kind: 'other'; index: number } | { kind: 'system' }

interface Layout {
  mode: Mode
  /** The app's base is reached through a symlinked parent that leads elsewhere (`~/apps` → `/mnt/disk/apps`). */
  parentLink: boolean
  releases: number
  /** Which release `current` names (absent: a first deploy, release-inputs only). */
  current: number | null
  /** The release given as release-dir. */
  target: number
  relativeLink: boolean
  wdSub: boolean
  appCwd: boolean
  others: number
  processes: { cwd: Place; script: Place; throughLink: boolean }[]
}

const place = (releases: number, others: number): fc.Arbitrary<Place> =>
  fc.oneof(
    fc.record({ kind: fc.constant('release' as const), index: fc.nat({ max: releases - 1 }) }),
    fc.constant({ kind: 'wd' as const }),
    fc.constant({ kind: 'app-cwd' as const }),
    fc.record({ kind: fc.constant('other' as const), index: fc.nat({ max: others - 1 }) }),
    fc.constant({ kind: 'system' as const })
  )

const layouts: fc.Arbitrary<Layout> = fc
  .record({ releases: fc.integer({ min: 1, max: 4 }), others: fc.integer({ min: 1, max: 3 }) })
  .chain(({ releases, others }) =>
    fc.record({
      mode: fc.constantFrom<Mode>('release-inputs', 'link-wd', 'plain'),
      parentLink: fc.boolean(),
      releases: fc.constant(releases),
      current: fc.option(fc.nat({ max: releases - 1 }), { nil: null }),
      target: fc.nat({ max: releases - 1 }),
      relativeLink: fc.boolean(),
      wdSub: fc.boolean(),
      appCwd: fc.boolean(),
      others: fc.constant(others),
      processes: fc.array(fc.record({ cwd: place(releases, others), script: place(releases, others), throughLink: fc.boolean() }), { minLength: 1, maxLength: 5 })
    })
  )

const mkdir = (d: string) => (fs.mkdirSync(d, { recursive: true }), d)

/** Builds the layout on disk; returns the deploy's paths, the processes, and the model's own trees (real paths). */
function build(l: Layout) {
  const root = mkdir(path.join(scratch, `run-${runs++}`))
  // With a parent link: root/home/apps → root/mnt/disk/apps; the app and the other projects live there.
  const realApps = mkdir(path.join(root, l.parentLink ? 'mnt/disk/apps' : 'apps'))
  if (l.parentLink) fs.symlinkSync(realApps, path.join(mkdir(path.join(root, 'home')), 'apps'))
  const apps = l.parentLink ? path.join(root, 'home/apps') : realApps
  const base = path.join(apps, 'app')
  const releases = Array.from({ length: l.releases }, (_, i) => mkdir(path.join(base, 'releases', `r${i}`)))
  const realReleases = releases.map((r) => fs.realpathSync(r))
  const others = Array.from({ length: l.others }, (_, i) => mkdir(path.join(apps, `other-${i}`)))
  const system = mkdir(path.join(root, 'usr/bin'))
  const link = path.join(base, 'current')
  const current = l.mode === 'link-wd' ? (l.current ?? 0) : l.current
  if (l.mode !== 'plain' && current !== null) fs.symlinkSync(l.relativeLink ? path.join('releases', `r${current}`) : releases[current]!, link)
  const checkout = mkdir(path.join(base, 'src'))
  let wd: string
  if (l.mode === 'release-inputs') wd = releases[l.target]!
  else if (l.mode === 'link-wd') wd = l.wdSub ? path.join(link, 'sub') : link
  else wd = checkout
  mkdir(wd)
  const appCwd = l.appCwd ? mkdir(path.join(wd, 'backend')) : wd
  const paths = [resolveDeployPath('working-directory', wd), resolveDeployPath('app cwd', appCwd), resolveDeployPath('app script directory', appCwd)]
  if (l.mode === 'release-inputs') paths.push(resolveDeployPath('current-link', link), resolveDeployPath('the directory of release-dir', path.dirname(realReleases[l.target]!)))
  // The model: the trees the deploy owns, by the rule SPEC states (innermost link beside its target: the releases).
  const trees = [wd, appCwd].map((p) => fs.realpathSync(p))
  const releasesOwned = l.mode === 'release-inputs' || l.mode === 'link-wd'
  if (releasesOwned) trees.push(path.dirname(realReleases[0]!))
  const dirOf = (p: Place, throughLink: boolean): string => {
    switch (p.kind) {
      case 'release':
        return throughLink ? releases[p.index]! : realReleases[p.index]!
      case 'wd':
        return wd
      case 'app-cwd':
        return appCwd
      case 'other':
        return others[p.index]!
      case 'system':
        return system
    }
  }
  const records = l.processes.map((p, i) =>
    // A pid above pid_max: no /proc to read, so PM2's paths are resolved, as for a process not ours to read.
    processRecord({ pmId: i, name: 'api', pid: 99_000_000 + i, cwd: dirOf(p.cwd, p.throughLink), script: path.join(dirOf(p.script, p.throughLink), 'server.js') })
  )
  const inside = (p: string | null) => p !== null && trees.some((t) => isWithin(p, t))
  const processes = ownNamedProcesses(records, new Set(['api']))
  const expectedForeign = processes.filter((p) => !inside(p.cwd) && !inside(p.script)).map((p) => p.pmId)
  return { paths, processes, expectedForeign }
}

describe('identity over generated layouts on disk', () => {
  test('a process is another project\'s exactly when its real cwd and real script both lie outside the deploy\'s trees; adopt takes it over', () => {
    fc.assert(
      fc.property(layouts, fc.boolean(), (layout, adopt) => {
        const { paths, processes, expectedForeign } = build(layout)
        const verdict = judgeIdentity({ ownDirs: ownDirectories(paths), processes, adopt })
        expect(verdict.foreign.map((p) => p.pmId)).toEqual(expectedForeign)
        expect(verdict.ok).toBe(adopt || expectedForeign.length === 0)
        if (!verdict.ok) {
          for (const p of verdict.foreign) expect(verdict.message).toContain(`${p.name} (pm_id ${p.pmId}, pid ${p.pid}) runs from ${p.cwd}`)
          expect(verdict.message).toMatch(/Stop or rename that process.*`adopt: true`/)
        }
      }),
      { numRuns: 150 }
    )
  })

  test('every release beside the link is own once the link or release-dir names one of them: a first deploy from an older sibling, a hand-switched `current`', () => {
    fc.assert(
      fc.property(layouts.filter((l) => l.mode !== 'plain'), (layout) => {
        const { paths, processes } = build({ ...layout, processes: Array.from({ length: layout.releases }, (_, i) => ({ cwd: { kind: 'release', index: i }, script: { kind: 'system' }, throughLink: false })) })
        expect(judgeIdentity({ ownDirs: ownDirectories(paths), processes, adopt: false }).ok).toBe(true)
      }),
      { numRuns: 60 }
    )
  })

  test('another project beside the app is never own, whatever links lead to the app', () => {
    fc.assert(
      fc.property(layouts, (layout) => {
        const { paths, processes } = build({ ...layout, processes: [{ cwd: { kind: 'other', index: 0 }, script: { kind: 'other', index: 0 }, throughLink: false }] })
        expect(judgeIdentity({ ownDirs: ownDirectories(paths), processes, adopt: false }).ok).toBe(false)
      }),
      { numRuns: 60 }
    )
  })
})

describe('identity, pure', () => {
  const dirArb = fc.array(fc.constantFrom('a', 'b', 'c', 'releases', 'r1'), { minLength: 1, maxLength: 4 }).map((parts) => '/' + parts.join('/'))
  const proc = fc.record({ pmId: fc.nat(50), name: fc.constant('api'), pid: fc.nat(), cwd: fc.option(dirArb, { nil: null }), script: fc.option(dirArb.map((d) => `${d}/x.js`), { nil: null }) })

  test('one foot inside is enough: a process whose cwd or script lies in an own directory is never foreign', () => {
    fc.assert(
      fc.property(fc.array(dirArb, { minLength: 1, maxLength: 4 }), proc, (dirs, p: OwnNamedProcess) => {
        const foreign = isForeign(p, dirs)
        const anyInside = [p.cwd, p.script].some((x) => x !== null && dirs.some((d) => isWithin(x, d)))
        expect(foreign).toBe(!anyInside && (p.cwd !== null || p.script !== null))
      })
    )
  })

  test('a process left where the last recorded deploy of this app left that name is ours; a directory recorded for another name is not', () => {
    fc.assert(
      fc.property(fc.array(dirArb, { minLength: 1, maxLength: 3 }), proc, fc.boolean(), (dirs, p: OwnNamedProcess, sameName) => {
        fc.pre(p.cwd !== null && isForeign(p, dirs))
        const recorded = { [sameName ? p.name : 'web']: { directories: [p.cwd!], time: 't', runUrl: null } }
        const verdict = judgeIdentity({ ownDirs: dirs, processes: [p], adopt: false, recorded })
        expect(verdict.ok).toBe(sameName)
        expect(verdict.foreign).toHaveLength(sameName ? 0 : 1)
      })
    )
  })

  test('a moved directory warns once per name, naming both directories; the same directories never warn', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('api', 'web', 'worker'), fc.array(dirArb, { minLength: 1, maxLength: 2 })), (now) => {
        const same = Object.fromEntries(Object.entries(now).map(([n, d]) => [n, { directories: d, time: 't', runUrl: null }]))
        expect(movedWarnings(same, now)).toEqual([])
        const elsewhere = Object.fromEntries(Object.keys(now).map((n) => [n, { directories: ['/elsewhere'], time: 't', runUrl: null }]))
        const warnings = movedWarnings(elsewhere, now)
        expect(warnings).toHaveLength(Object.keys(now).length)
        for (const w of warnings) expect(w).toMatch(/ran from \/elsewhere at the last recorded deploy/)
      })
    )
  })
})

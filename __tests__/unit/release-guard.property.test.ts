// Promise 15: release-dir must be a release of its own. The pure check, by example and by
// property: any release-dir that is, contains or lies inside the link, the live or previous
// release, shared-dir or the releases' directory, or holds a PM2 process's directory, is refused.
import fc from 'fast-check'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { defaultSharedDir, previousOfLive, releaseDirProblems, type ReleaseGuardInput } from '../../src/core/release-guard.js'
import { isWithin } from '../../src/core/release.js'
import { parseSharedPaths } from '../../src/core/shared-paths.js'

const APP = '/srv/app'
const base = (releaseDir: string, over: Partial<ReleaseGuardInput> = {}): ReleaseGuardInput => ({
  releaseDir,
  currentLink: `${APP}/current`,
  realLink: `${APP}/current`,
  live: `${APP}/releases/v1`,
  previous: `${APP}/releases/v0`,
  sharedDir: `${APP}/shared`,
  releaseHolders: [`${APP}/releases`],
  processDirs: [{ name: 'web', pmId: 0, path: `${APP}/releases/v1` }],
  ...over
})

describe('release-dir refusals, each naming the path and the fix', () => {
  test('a new release beside the live one passes', () => {
    expect(releaseDirProblems(base(`${APP}/releases/v2`))).toEqual([])
  })
  test.each([
    [APP, /contains current-link .*current/],
    [`${APP}/releases`, /is the directory that holds the releases .*env\.VERSION/],
    [`${APP}/current/dist`, /lies inside current-link/],
    [`${APP}/releases/v1/dist`, /lies inside the live release/],
    [`${APP}/releases/v0`, /is the previous release, kept as the rollback target: use `rollback-to: previous`/],
    [`${APP}/shared`, /is shared-dir/],
    [`${APP}/shared/v2`, /lies inside shared-dir/],
    [`${APP}/releases/v2/deeper`, /lies deeper inside the directory that holds the releases/],
    ['/', /is the root directory/]
  ])('%s is refused', (dir, why) => {
    expect(releaseDirProblems(base(dir)).join('\n')).toMatch(why)
  })
  test('a directory a foreign process runs from, or one that holds it, is refused; one inside a process cwd (/, $HOME) is not', () => {
    const processDirs = [
      { name: 'legacy', pmId: 3, path: '/opt/legacy/bin' },
      { name: 'home-app', pmId: 4, path: '/home/deploy' }
    ]
    expect(releaseDirProblems(base('/opt/legacy', { processDirs, releaseHolders: [] })).join('\n')).toMatch(/contains \/opt\/legacy\/bin, where PM2 process legacy \(pm_id 3\) runs from/)
    expect(releaseDirProblems(base('/home/deploy/app/releases/v2', { processDirs, live: null, previous: null, releaseHolders: [], currentLink: '/home/deploy/app/current', realLink: '/home/deploy/app/current', sharedDir: '/home/deploy/app/shared' }))).toEqual([])
  })
  test('an upload never replaces an existing directory inside a process\'s directory that this app did not record as a release', () => {
    const processDirs = [{ name: 'other-api', pmId: 5, path: '/srv/other' }]
    const at = (over: Partial<ReleaseGuardInput>) => releaseDirProblems(base('/srv/other/node_modules', { processDirs, releaseHolders: [], ...over })).join('\n')
    expect(at({ replacesExisting: true })).toMatch(/exists inside \/srv\/other, where PM2 process other-api \(pm_id 5\) runs from, and no deploy of this app recorded it as a release/)
    // A new directory there, or a release this app recorded, is a release of its own.
    expect(at({ replacesExisting: false })).toBe('')
    expect(at({ replacesExisting: true, recorded: ['/srv/other/node_modules'] })).toBe('')
    // A process run from / never refuses a release.
    expect(releaseDirProblems(base(`${APP}/releases/v2`, { replacesExisting: true, processDirs: [{ name: 'rooted', pmId: 6, path: '/' }] }))).toEqual([])
  })
  test('the previous release is the one the newest run left live came from', () => {
    const ev = (target: string, previous: string | null, over = {}) => ({ target, previous, live: target, switched: true, rolledBack: false, ...over })
    expect(previousOfLive([ev('/r/1', null), ev('/r/2', '/r/1'), ev('/r/3', '/r/2', { rolledBack: true, live: '/r/2' })], '/r/2')).toBe('/r/1')
    expect(previousOfLive([], '/r/2')).toBeNull()
    expect(defaultSharedDir('/var/www/app/releases/abc')).toBe('/var/www/app/shared')
  })
})

const seg = fc.constantFrom('app', 'releases', 'current', 'shared', 'v1', 'v2', 'logs', 'x')
const abs = fc.array(seg, { minLength: 1, maxLength: 5 }).map((s) => '/' + s.join('/'))
const overlaps = (a: string, b: string) => isWithin(a, b) || isWithin(b, a)

describe('property: every overlap is refused, and a refusal always names a real overlap', () => {
  test('release-dir vs link, live, previous, shared-dir, holders and process directories', () => {
    fc.assert(
      fc.property(abs, abs, fc.option(abs), fc.option(abs), abs, fc.array(abs, { maxLength: 3 }), (dir, link, live, previous, shared, procs) => {
        const holders = [live, previous].flatMap((p) => (p && p !== dir ? [path.dirname(p)] : []))
        const g = base(dir, { currentLink: link, realLink: link, live, previous, sharedDir: shared, releaseHolders: holders, processDirs: procs.map((p, i) => ({ name: `p${i}`, pmId: i, path: p })) })
        const problems = releaseDirProblems(g)
        const mustRefuse =
          path.dirname(dir) === dir ||
          overlaps(dir, link) ||
          overlaps(dir, shared) ||
          (live !== null && live !== dir && overlaps(dir, live)) ||
          (previous !== null && overlaps(dir, previous)) ||
          holders.some((h) => isWithin(h, dir) || (isWithin(dir, h) && path.dirname(dir) !== h)) ||
          procs.some((p) => isWithin(p, dir))
        expect(problems.length > 0, `${dir}: ${problems.join('; ')}`).toBe(mustRefuse)
        for (const p of problems) expect(p).toContain(dir)
      })
    )
  })
})

describe('shared paths', () => {
  test('paths inside the release pass, with a trailing / marking a directory; ones that leave it are refused', () => {
    const { paths, problems } = parseSharedPaths(['.env', 'uploads/', 'storage/logs/', '.env'])
    expect(paths).toEqual([
      { rel: '.env', dir: false },
      { rel: 'uploads', dir: true },
      { rel: 'storage/logs', dir: true }
    ])
    expect(problems).toEqual([])
    expect(parseSharedPaths(['../secrets', '/etc/passwd', 'a/../../b', '.', 'x', 'x/y']).problems).toHaveLength(5)
  })
  test('property: an accepted path never leaves the release', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z./]{1,12}$/), { maxLength: 5 }), (entries) => {
        for (const p of parseSharedPaths(entries).paths) {
          const joined = path.posix.join('/rel', p.rel)
          expect(joined.startsWith('/rel/')).toBe(true)
        }
      })
    )
  })
})

// Release switching on a real file system (a temp dir): the inputs' refusals, the
// atomic link switch (a concurrent reader never finds the link missing), the sibling
// listing, and /proc facts of a live process.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { throughLinkAfterSwitch } from '../../src/core/release.js'
import { parseInputs } from '../../src/shell/inputs.js'
import { preflightApps } from '../../src/shell/preflight.js'
import { processCwd, runningFacts } from '../../src/shell/proc.js'
import { existingReleases, liveRelease, removeRelease, restoreLink, switchLink } from '../../src/shell/release.js'
import { processRecord } from '../helpers/process-record.js'

const roots: string[] = []
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true })
})

/** app/releases/{r1,r2} and app/current → r1 (unless `link: false`). */
function layout(link = true): { root: string; r1: string; r2: string; current: string } {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-release-')))
  roots.push(root)
  const r1 = path.join(root, 'releases', 'r1')
  const r2 = path.join(root, 'releases', 'r2')
  fs.mkdirSync(r1, { recursive: true })
  fs.mkdirSync(r2)
  const current = path.join(root, 'current')
  if (link) fs.symlinkSync(r1, current)
  return { root, r1, r2, current }
}

const env = (over: Record<string, string>) => ({ INPUT_APP: 'web', INPUT_WHITELIST: 'web', HOME: '/home/deploy', ...over })

describe('release inputs', () => {
  test('a switch: live release read, relative working-directory taken inside release-dir', () => {
    const { root, r1, r2, current } = layout()
    const i = parseInputs(env({ GITHUB_WORKSPACE: root, 'INPUT_CURRENT-LINK': current, 'INPUT_RELEASE-DIR': 'releases/r2', 'INPUT_WORKING-DIRECTORY': 'app' }))
    expect(i.release).toEqual({ currentLink: current, releaseDir: r2, live: r1, redeploy: false, relativeWorkingDirectory: 'app' })
    expect(i.workingDirectory).toBe(path.join(r2, 'app'))
    expect(i.rollback).toBe(true)
    expect(i.keepReleases).toBe(5)
  })

  test('no link yet is a first deploy; the live release again is a redeploy', () => {
    const a = layout(false)
    expect(parseInputs(env({ 'INPUT_CURRENT-LINK': a.current, 'INPUT_RELEASE-DIR': a.r1 })).release).toMatchObject({ live: null, redeploy: false })
    const b = layout()
    expect(parseInputs(env({ 'INPUT_CURRENT-LINK': b.current, 'INPUT_RELEASE-DIR': b.r1 })).release).toMatchObject({ live: b.r1, redeploy: true })
  })

  test('without the release inputs nothing changes', () => {
    const i = parseInputs(env({}))
    expect(i.release).toBeNull()
    expect(i.workingDirectory).toBe(path.resolve(process.cwd(), '.'))
  })

  test.each([
    [{ 'INPUT_CURRENT-LINK': '/x/current' }, /current-link is set but release-dir is not/],
    [{ 'INPUT_RELEASE-DIR': '/x/r2' }, /release-dir is set but current-link is not/],
    [{ 'INPUT_KEEP-RELEASES': '2.5' }, /keep-releases must be a whole number/],
    [{ 'INPUT_KEEP-RELEASES': '-1' }, /keep-releases must be a whole number/],
    [{ INPUT_ROLLBACK: 'perhaps' }, /rollback must be true or false/]
  ])('refuses %j', (over, message) => {
    expect(() => parseInputs(env(over as Record<string, string>))).toThrowError(message)
  })

  test('refuses a link that is a directory, a missing release, a release through the link, the app root', () => {
    const { r2, current } = layout(false)
    fs.mkdirSync(current)
    expect(() => parseInputs(env({ 'INPUT_CURRENT-LINK': current, 'INPUT_RELEASE-DIR': r2 }))).toThrowError(/exists but is not a symlink \(a directory\)/)
    const b = layout()
    expect(() => parseInputs(env({ 'INPUT_CURRENT-LINK': b.current, 'INPUT_RELEASE-DIR': path.join(b.root, 'releases', 'r9') }))).toThrowError(/r9 does not exist or is not a directory/)
    expect(() => parseInputs(env({ 'INPUT_CURRENT-LINK': b.current, 'INPUT_RELEASE-DIR': b.current }))).toThrowError(/goes through current-link/)
    expect(() => parseInputs(env({ 'INPUT_CURRENT-LINK': b.current, 'INPUT_RELEASE-DIR': b.root }))).toThrowError(/contains current-link/)
    expect(() => parseInputs(env({ 'INPUT_CURRENT-LINK': path.join(b.root, 'nodir', 'current'), 'INPUT_RELEASE-DIR': b.r2 }))).toThrowError(/nodir .*does not exist/)
  })
})

describe('the release link', () => {
  test('switch, switch back, and back to no link on a first deploy', () => {
    const { r1, r2, current } = layout()
    expect(liveRelease(current)).toBe(r1)
    expect(switchLink(current, r2)).toEqual({ previous: r1 })
    expect(liveRelease(current)).toBe(r2)
    restoreLink(current, r1)
    expect(liveRelease(current)).toBe(r1)
    restoreLink(current, null)
    expect(fs.existsSync(current)).toBe(false)
    expect(switchLink(current, r2)).toEqual({ previous: null })
    expect(liveRelease(current)).toBe(r2)
    // no temporary link is left behind
    expect(fs.readdirSync(path.dirname(current)).filter((n) => n.startsWith('.'))).toEqual([])
  })

  test('a concurrent reader never finds the link missing while it is switched many times', async () => {
    const { r1, r2, current } = layout()
    const stop = `${current}.stop`
    // A separate process reads the link as fast as it can until told to stop (bounded: 20 s at most).
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('fs');let ok=0,missing=0;const end=Date.now()+20000;
         while(!fs.existsSync(${JSON.stringify(stop)})&&Date.now()<end){try{fs.readlinkSync(${JSON.stringify(current)});ok++}catch{missing++}}
         console.log(JSON.stringify({ok,missing}))`
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] }
    )
    let out = ''
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<void>((resolve) => reader.on('exit', () => resolve()))
    await new Promise((r) => setTimeout(r, 200))
    for (let i = 0; i < 2000; i++) switchLink(current, i % 2 === 0 ? r2 : r1)
    fs.writeFileSync(stop, '')
    await exited
    const { ok, missing } = JSON.parse(out) as { ok: number; missing: number }
    expect(missing).toBe(0)
    expect(ok).toBeGreaterThan(0)
    expect(liveRelease(current)).toBe(r1)
  })

  test('a link that cannot be written is a clear error and leaves no temporary link', () => {
    const { r2 } = layout()
    expect(() => switchLink('/proc/no-such-dir/current', r2)).toThrowError(/could not point \/proc\/no-such-dir\/current at/)
  })

  test('recorded releases: existing real directories only, not a link or a file; removal', () => {
    const { root, r1, r2 } = layout()
    fs.symlinkSync(r1, path.join(root, 'releases', 'current'))
    fs.writeFileSync(path.join(root, 'releases', 'notes.txt'), '')
    const recorded = [r2, path.join(root, 'releases', 'current'), path.join(root, 'releases', 'notes.txt'), path.join(root, 'releases', 'gone'), r1]
    expect(existingReleases(recorded)).toEqual([r2, r1])
    expect(removeRelease(r1)).toBeNull()
    expect(fs.existsSync(r1)).toBe(false)
  })
})

describe('preflight through the link', () => {
  test('paths through current-link are checked in the new release, before the switch', () => {
    const { r2, current } = layout()
    fs.writeFileSync(path.join(r2, 'server.js'), 'require("http")\n')
    const app = { name: 'web', script: 'server.js', cwd: current, interpreter: null, execMode: 'cluster', instances: 2, namespace: null, appendEnvToName: false, namePrefix: null }
    const wd = r2
    // As the link is now (r1 has no server.js): a problem; as it will be after the switch: none.
    expect(preflightApps(['web'], [app], wd)).toEqual([{ app: 'web', problem: expect.stringMatching(/current\/server.js does not exist/) }])
    expect(preflightApps(['web'], [app], wd, { mapPath: (p) => throughLinkAfterSwitch(p, current, r2) })).toEqual([])
    expect(liveRelease(current)).toMatch(/r1$/)
  })
})

describe('/proc facts', () => {
  test('the real cwd of a live process, even when it was entered through a link', async () => {
    const { r1, current } = layout()
    const child = spawn(process.execPath, ['-e', 'setTimeout(()=>{},10000)'], { cwd: current, stdio: 'ignore' })
    try {
      await new Promise((r) => setTimeout(r, 100))
      expect(processCwd(child.pid!)).toBe(r1)
      const [facts] = runningFacts([processRecord({ pmId: 0, name: 'web', pid: child.pid!, cwd: current, script: path.join(current, 'x.js'), startedAt: 5 })])
      expect(facts).toMatchObject({ procCwd: r1, realPmCwd: r1, script: path.join(current, 'x.js'), startedAt: 5 })
    } finally {
      child.kill()
    }
    expect(processCwd(0)).toBeNull()
  })
})

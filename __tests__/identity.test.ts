// SPEC "Who owns what", through the bundled action on a real daemon: a generic name (`api`)
// that another project runs from its own directory is refused before any command, and taken
// over only with `adopt: true`; a first deploy whose processes run from an older sibling
// release deploys; with only a whitelist, the audit record keeps each own process's directory
// and a later deploy warns when it moved.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { DeployReport } from '../src/core/report-schema.js'
import { APPS, daemonsForThisFile, type TestDaemon } from './helpers/daemon.js'
import { expectAborted, runAction, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()
const report = (run: ActionRun): DeployReport => JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))
const IDLE = fs.readFileSync(path.join(APPS, 'idle.cjs'), 'utf8')

/** A directory with server.js (an idle app) and an ecosystem file naming `apps` with `cwd: __dirname`. */
function project(dir: string, apps: string[]): string {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'server.js'), IDLE)
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [${apps.map((n) => `{ name: '${n}', script: 'server.js', cwd: __dirname }`).join(', ')}] }\n`)
  return fs.realpathSync(dir)
}

let d: TestDaemon
let root: string
const deploy = (inputs: Record<string, string>) =>
  runAction({ inputs: { 'stable-seconds': '2', 'timeout-seconds': '60', ...inputs }, pm2Home: d.home, baseDir: d.dir })
const procs = (name: string) => d.jlistRaw().filter((p) => p.name === name)
const realCwds = (name: string) => procs(name).map((p) => fs.readlinkSync(`/proc/${p.pid}/cwd`))
const removeAll = (name: string) => procs(name).forEach((p) => d.pm2(['-s', 'delete', String(p.pm_id)]))

beforeAll(() => {
  d = newDaemon('identity')
  d.ping()
  root = fs.realpathSync(d.dir)
})

describe('another project runs `api` from its own directory', () => {
  let other: string
  let ours: string
  beforeAll(async () => {
    other = project(path.join(root, 'srv', 'other-project'), ['api'])
    ours = project(path.join(root, 'srv', 'shop'), ['api'])
    d.start({ name: 'api', script: path.join(other, 'server.js'), cwd: other })
    await d.waitOnline()
  })

  test('refused before any command: aborted, its pid untouched, the message names it, its directory and the fix', async () => {
    const before = d.fingerprint()
    const [theirs] = procs('api')
    const run = await deploy({ app: 'api', 'working-directory': ours, ecosystem: 'ecosystem.config.js' })
    expectAborted(run, new RegExp(`api \\(pm_id ${theirs!.pm_id}, pid ${theirs!.pid}\\) runs from ${other}, script ${other}/server.js: outside this deploy's directories`))
    expect(run.stdout).toMatch(/Stop or rename that process \(or rename this app's\), or set `adopt: true`/)
    expect(run.stdout).toMatch(/::error title=pm2-safe-deploy%3A Another project runs an own name::/)
    expect(d.fingerprint()).toEqual(before)
    expect(realCwds('api')).toEqual([other])
    expect(report(run).checks).toContainEqual(expect.objectContaining({ name: 'identity', ok: false }))
  })

  test('dry-run says the same, and changes nothing', async () => {
    const before = d.fingerprint()
    const run = await deploy({ app: 'api', 'working-directory': ours, ecosystem: 'ecosystem.config.js', 'dry-run': 'true' })
    expectAborted(run, /Another project runs a process with an own name, nothing was changed/)
    expect(d.fingerprint()).toEqual(before)
  })

  test('with `adopt: true` the name is taken over: deployed, and `api` now runs from this deploy\'s directory', async () => {
    const run = await deploy({ app: 'api', 'working-directory': ours, ecosystem: 'ecosystem.config.js', adopt: 'true' })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(realCwds('api')).toEqual([ours])
    expect(report(run).checks).toContainEqual(expect.objectContaining({ name: 'identity', ok: true, detail: expect.stringMatching(/^adopt: true: taking over api .* runs from /) }))
    expect(report(run).warnings.join('\n')).toMatch(/adopt: true: taking over api/)
    // From now on it runs from our directory: the next deploy needs no adopt.
    const again = await deploy({ app: 'api', 'working-directory': ours, ecosystem: 'ecosystem.config.js' })
    expect(again.outputs.result, again.stdout).toBe('deployed')
    removeAll('api')
  })
})

test('a first deploy whose processes run from an older release beside release-dir deploys, and ends running the new release', async () => {
  const releases = path.join(root, 'app', 'releases')
  const r0 = project(path.join(releases, 'r0'), ['web-test'])
  const r1 = project(path.join(releases, 'r1'), ['web-test'])
  // Started by hand from r0 before the action took over the switch: no `current` link yet.
  d.start({ name: 'web-test', script: path.join(r0, 'server.js'), cwd: r0 })
  await d.waitOnline()
  const run = await deploy({ app: 'web', 'environment-suffix': '-test', ecosystem: 'ecosystem.config.js', 'current-link': path.join(root, 'app', 'current'), 'release-dir': r1 })
  expect(run.outputs.result, run.stdout).toBe('deployed')
  expect(realCwds('web-test')).toEqual([r1])
  expect(report(run).checks).toContainEqual(expect.objectContaining({ name: 'identity', ok: true }))
  removeAll('web-test')
})

describe('with only a whitelist', () => {
  const audit = () =>
    fs
      .readFileSync(path.join(d.home, 'pm2-safe-deploy.audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { app: string; result: string; ownDirectories?: Record<string, string[]> })
  const inputs = { app: 'jobs', whitelist: 'jobs-worker' }

  test('the audit record keeps each own process\'s directory; a later deploy warns when it moved', async () => {
    const first = project(path.join(root, 'jobs', 'a'), ['jobs-worker'])
    const moved = project(path.join(root, 'elsewhere', 'b'), ['jobs-worker'])
    d.start({ name: 'jobs-worker', script: path.join(first, 'server.js'), cwd: first })
    await d.waitOnline()
    const run = await deploy(inputs)
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(audit().at(-1)).toMatchObject({ app: 'jobs', result: 'deployed', ownDirectories: { 'jobs-worker': [first] } })
    expect(report(run).checks).toContainEqual(expect.objectContaining({ name: 'identity', ok: true, detail: expect.stringMatching(/names alone declare ownership; no earlier deploy recorded/) }))

    const same = await deploy(inputs)
    expect(same.outputs.result, same.stdout).toBe('deployed')
    expect(report(same).warnings.join('\n')).not.toMatch(/last recorded deploy/)

    // Another process now carries the name, from another directory.
    removeAll('jobs-worker')
    d.start({ name: 'jobs-worker', script: path.join(moved, 'server.js'), cwd: moved })
    await d.waitOnline()
    const later = await deploy(inputs)
    expect(later.outputs.result, later.stdout).toBe('deployed')
    const warning = `jobs-worker runs from ${moved}, but ran from ${first} at the last recorded deploy`
    expect(report(later).warnings.join('\n')).toContain(warning)
    expect(later.stdout).toMatch(new RegExp(`::warning::${warning.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`))
    expect(audit().at(-1)).toMatchObject({ ownDirectories: { 'jobs-worker': [moved] } })
    removeAll('jobs-worker')
  })
})

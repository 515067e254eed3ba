// Promises 4, 9 and 10 through the bundled action, as a runner runs it, on a real daemon:
// a release switch of a 2-instance cluster app under load (a swap: no failed request), a
// crash-looping release rolled back, a fork app recreated, a release refused in preflight,
// and keep-releases sparing a directory a neighbour runs from (of the releases this app deployed).
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { DeployReport } from '../src/core/report-schema.js'
import { APPS, daemonsForThisFile, type TestDaemon } from './helpers/daemon.js'
import { freePort, loadLoop, probe, until } from './helpers/load.js'
import { runAction, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()
const report = (run: ActionRun): DeployReport => JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))

/** releases/<name>: the graceful HTTP app (or a crashing one) and a file with `cwd: __dirname`, the stale-release trap's form. */
function writeRelease(root: string, name: string, app: { port: number; mode: 'cluster' | 'fork'; crash?: boolean; script?: string }): string {
  const dir = path.join(root, 'releases', name)
  fs.mkdirSync(dir, { recursive: true })
  const server = app.crash ? `setTimeout(() => process.exit(3), 1500)\nrequire('./real-server.js')\n` : fs.readFileSync(path.join(APPS, 'http-server.cjs'), 'utf8')
  if (app.crash) fs.copyFileSync(path.join(APPS, 'http-server.cjs'), path.join(dir, 'real-server.js'))
  fs.writeFileSync(path.join(dir, 'server.js'), server)
  const cluster = app.mode === 'cluster' ? "exec_mode: 'cluster', instances: 2," : ''
  fs.writeFileSync(
    path.join(dir, 'ecosystem.config.js'),
    `module.exports = { apps: [{ name: 'web-test', script: ${JSON.stringify(app.script ?? 'server.js')}, cwd: __dirname, ${cluster} kill_timeout: 3000, env: { PORT: '${app.port}', RELEASE: '${name}' } }] }\n`
  )
  return fs.realpathSync(dir)
}

function deploy(d: TestDaemon, root: string, release: string, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    inputs: {
      app: 'web',
      'environment-suffix': '-test',
      whitelist: '',
      ecosystem: 'ecosystem.config.js',
      'current-link': path.join(root, 'current'),
      'release-dir': path.join(root, 'releases', release),
      'stable-seconds': '3',
      'timeout-seconds': '60',
      ...inputs
    },
    pm2Home: d.home,
    baseDir: d.dir,
    timeoutMs: 110_000
  })
}

const own = (d: TestDaemon) => d.jlistRaw().filter((p) => p.name === 'web-test')
const realCwds = (d: TestDaemon) => own(d).map((p) => fs.readlinkSync(`/proc/${p.pid}/cwd`))

describe('a 2-instance cluster app behind `current`', () => {
  let d: TestDaemon
  let root: string
  let port: number
  beforeAll(async () => {
    d = newDaemon('release')
    root = fs.realpathSync(d.dir)
    port = await freePort()
    d.start({ name: 'neighbour-api', script: `${APPS}/idle.cjs` })
    writeRelease(root, 'r1', { port, mode: 'cluster' })
    const first = await deploy(d, root, 'r1')
    expect(first.outputs.result, first.stdout).toBe('deployed')
    expect(first.outputs.release).toBe(path.join(root, 'releases', 'r1'))
  })

  test('switches r1 → r2 under load with reload: deployed, 0 failed requests, every worker really in r2', async () => {
    const r2 = writeRelease(root, 'r2', { port, mode: 'cluster' })
    const neighbour = d.fingerprint((n) => n === 'neighbour-api')
    const load = loadLoop(port)
    const run = await deploy(d, root, 'r2')
    await new Promise((r) => setTimeout(r, 500))
    const stats = await load.stop()
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(stats.failed, stats.errors.join('\n')).toBe(0)
    expect(stats.ok).toBeGreaterThan(0)
    expect(realCwds(d)).toEqual([r2, r2])
    expect(fs.realpathSync(path.join(root, 'current'))).toBe(r2)
    expect(run.outputs.release).toBe(r2)
    const r = report(run)
    expect(r.release).toMatchObject({ switched: true, rolledBack: false, previous: path.join(root, 'releases', 'r1'), swapped: ['web-test'], downtime: [] })
    expect(r.commands.map((c) => c.command).filter((c) => /^pm2 (start|delete)/.test(c))).toEqual([
      expect.stringMatching(new RegExp(`^pm2 start ${r2}/server.js --name web-test --cwd ${r2} -i 2`)),
      // Both old instances in one gated call (issue 16): O(1) pm2 calls whatever the instance count.
      expect.stringMatching(/^pm2 delete \d+ \d+$/)
    ])
    expect(d.fingerprint((n) => n === 'neighbour-api')).toEqual(neighbour)
  })

  test('a crash-looping r3 is rolled back: rolled-back, exit 1, current on r2 again, r2 answering, dump not saved with r3', async () => {
    const r2 = path.join(root, 'releases', 'r2')
    writeRelease(root, 'r3', { port, mode: 'cluster', crash: true })
    const dumpBefore = fs.existsSync(path.join(d.home, 'dump.pm2')) ? fs.readFileSync(path.join(d.home, 'dump.pm2'), 'utf8') : null
    const load = loadLoop(port)
    const run = await deploy(d, root, 'r3')
    const jobEnded = Date.now()
    await new Promise((r) => setTimeout(r, 1000))
    const stats = await load.stop()
    // A request is the deploy's if it was sent before the job ended (one sent to a crashing worker may hang 5 s).
    const failedAfter = stats.failedStarts.filter((t) => t >= jobEnded).length
    expect(run.outputs.result, run.stdout).toBe('rolled-back')
    expect(run.code).toBe(1)
    expect(fs.realpathSync(path.join(root, 'current'))).toBe(r2)
    expect(run.outputs.release).toBe(r2)
    expect(await until('r2 answering', async () => ((await probe(port)) === 'r2' ? 'r2' : null))).toBe('r2')
    expect(realCwds(d)).toEqual([r2, r2])
    expect(failedAfter, stats.errors.join('\n')).toBe(0)
    expect(stats.failed, stats.errors.join('\n')).toBeLessThanOrEqual(Math.ceil((stats.ok + stats.failed) * 0.01))
    const dumpAfter = fs.existsSync(path.join(d.home, 'dump.pm2')) ? fs.readFileSync(path.join(d.home, 'dump.pm2'), 'utf8') : null
    expect(dumpAfter).toBe(dumpBefore)
    expect(run.stdout).toMatch(/::error title=pm2-safe-deploy%3A Rolled back/)
    expect(run.summary).toMatch(/Rolled back/)
    expect(report(run).message).toMatch(/crash loop|not healthy/)
    expect(report(run).release).toMatchObject({ switched: true, rolledBack: true, live: r2 })
  })

  test('a release whose script is missing is refused in preflight: aborted, link untouched, pids unchanged', async () => {
    const dir = writeRelease(root, 'r4', { port, mode: 'cluster', script: 'dist/server.js' })
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false)
    const link = fs.readlinkSync(path.join(root, 'current'))
    const before = d.fingerprint()
    const run = await deploy(d, root, 'r4')
    expect(run.outputs.result, run.stdout).toBe('aborted')
    expect(run.stdout).toMatch(/dist\/server\.js does not exist/)
    expect(fs.readlinkSync(path.join(root, 'current'))).toBe(link)
    expect(d.fingerprint()).toEqual(before)
  })
})

test('a fork-mode app whose release changes under `restart` ends running r2 (recreated), never `deployed` on r1', async () => {
  const d = newDaemon('release-fork')
  d.ping()
  const root = fs.realpathSync(d.dir)
  const port = await freePort()
  writeRelease(root, 'r1', { port, mode: 'fork' })
  const first = await deploy(d, root, 'r1', { strategy: 'restart' })
  expect(first.outputs.result, first.stdout).toBe('deployed')
  const r2 = writeRelease(root, 'r2', { port, mode: 'fork' })
  const run = await deploy(d, root, 'r2', { strategy: 'restart' })
  expect(run.outputs.result, run.stdout).toBe('deployed')
  expect(realCwds(d)).toEqual([r2])
  expect(report(run).release?.downtime).toEqual(['web-test'])
  expect(run.summary).toMatch(/moment of downtime/)
})

test('keep-releases removes old releases this app deployed, but never the live, the previous, or one a neighbour runs from', async () => {
  const d = newDaemon('release-keep')
  d.ping()
  const root = fs.realpathSync(d.dir)
  const port = await freePort()
  const dirs = ['r1', 'r2', 'r3', 'r4'].map((r) => writeRelease(root, r, { port, mode: 'fork' }))
  // Only releases the audit log records as this app's are ever considered: each is deployed once.
  for (const r of ['r1', 'r2', 'r3']) expect((await deploy(d, root, r, { 'keep-releases': '0' })).outputs.result).toBe('deployed')
  // A neighbour (another app, another owner's process name) runs from the oldest release.
  d.start({ name: 'legacy-report', script: `${APPS}/idle.cjs`, cwd: dirs[0]! })
  const run = await deploy(d, root, 'r4', { 'keep-releases': '1' })
  expect(run.outputs.result, run.stdout).toBe('deployed')
  expect(['r1', 'r2', 'r3', 'r4'].filter((r) => fs.existsSync(path.join(root, 'releases', r)))).toEqual(['r1', 'r3', 'r4'])
  const pruned = report(run).release!.pruned
  expect(pruned.find((p) => p.path === dirs[0])).toMatchObject({ remove: false, reason: expect.stringMatching(/legacy-report .* runs from it/) })
  expect(pruned.find((p) => p.path === dirs[1])).toMatchObject({ remove: true, error: null })
  expect(pruned.find((p) => p.path === dirs[2])).toMatchObject({ remove: false, reason: expect.stringMatching(/previous/) })
})

test('a rollback that fails too ends `failed` and says what the link names and where each own process runs', async () => {
  const d = newDaemon('release-rollback-fails')
  d.ping()
  const root = fs.realpathSync(d.dir)
  const port = await freePort()
  writeRelease(root, 'r1', { port, mode: 'fork' })
  expect((await deploy(d, root, 'r1')).outputs.result).toBe('deployed')
  // The previous release breaks on disk after it went live (its next start crashes), and r2 crashes too.
  const r1 = writeRelease(root, 'r1', { port, mode: 'fork', crash: true })
  writeRelease(root, 'r2', { port, mode: 'fork', crash: true })
  const run = await deploy(d, root, 'r2')
  expect(run.outputs.result, run.stdout).toBe('failed')
  expect(run.code).toBe(1)
  const r = report(run)
  expect(r.title).toBe('Rollback failed')
  expect(r.message).toMatch(/The rollback failed too: the previous release is not healthy either/)
  expect(r.message).toContain(`Now ${path.join(root, 'current')} names ${r1}`)
  expect(r.message).toMatch(/own processes: web-test \(pm_id \d+\)/)
  expect(r.release).toMatchObject({ switched: true, rolledBack: true, live: r1 })
})

test('without current-link, a swap whose new instances fail removes them: `failed`, and the old instances still serve', async () => {
  const d = newDaemon('swap-fails')
  d.ping()
  const root = fs.realpathSync(d.dir)
  const port = await freePort()
  const r1 = writeRelease(root, 'r1', { port, mode: 'cluster' })
  const r2 = writeRelease(root, 'r2', { port, mode: 'cluster', crash: true })
  const plain = (dir: string) =>
    runAction({
      inputs: { app: 'web', 'environment-suffix': '-test', ecosystem: 'ecosystem.config.js', 'working-directory': dir, 'stable-seconds': '3', 'timeout-seconds': '60' },
      pm2Home: d.home,
      baseDir: d.dir
    })
  expect((await plain(r1)).outputs.result).toBe('deployed')
  const oldIds = own(d).map((p) => p.pm_id).sort()
  const run = await plain(r2)
  expect(run.outputs.result, run.stdout).toBe('failed')
  expect(report(run).message).toMatch(/The new instances are not healthy: .*They were removed; the old instances still serve/s)
  expect(own(d).map((p) => p.pm_id).sort()).toEqual(oldIds)
  expect(realCwds(d)).toEqual([r1, r1])
  expect(await until('r1 answering', async () => ((await probe(port)) === 'r1' ? 'r1' : null))).toBe('r1')
})

test('after a switch cut short (the link on r2, the app still on r1), a bad r2 redeployed is rolled back to r1', async () => {
  const d = newDaemon('release-cut-short')
  d.ping()
  const root = fs.realpathSync(d.dir)
  const port = await freePort()
  const r1 = writeRelease(root, 'r1', { port, mode: 'cluster' })
  expect((await deploy(d, root, 'r1')).outputs.result).toBe('deployed')
  // A deploy killed right after it switched the link: the link names r2, the processes run r1.
  const r2 = writeRelease(root, 'r2', { port, mode: 'cluster', crash: true })
  fs.unlinkSync(path.join(root, 'current'))
  fs.symlinkSync(r2, path.join(root, 'current'))
  const run = await deploy(d, root, 'r2')
  expect(run.outputs.result, run.stdout).toBe('rolled-back')
  expect(fs.realpathSync(path.join(root, 'current'))).toBe(r1)
  expect(report(run).release).toMatchObject({ previous: r1, target: r2, rolledBack: true, live: r1 })
  expect(realCwds(d)).toEqual([r1, r1])
  expect(await until('r1 answering', async () => ((await probe(port)) === 'r1' ? 'r1' : null))).toBe('r1')
})

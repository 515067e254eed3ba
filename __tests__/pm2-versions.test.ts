// The bundled action against each pm2 major users run (issue 16): a 5.4.x, a 6.0.x and a 7.0.x
// daemon, each driven by its own CLI (`pm2-path`). A representative subset: a deploy, a release
// switch (a swap, its old instances retired in one delete), a crash-looping release rolled back,
// a crash loop, a SAFETY ABORT, and the versions as the report records them (read over RPC).
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { DeployReport } from '../src/core/report-schema.js'
import { Pm2Session } from '../src/shell/pm2/session.js'
import { APPS, daemonsForThisFile, pm2BinOf, pm2VersionOf, testEnv, type Pm2Package, type TestDaemon } from './helpers/daemon.js'
import { runAction, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()
const report = (run: ActionRun): DeployReport => JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))
const PACKAGES: Pm2Package[] = ['pm2-5', 'pm2-6', 'pm2']
const sessions: Pm2Session[] = []
afterAll(() => sessions.forEach((s) => s.close()))

/** releases/<name>: a tiny 2-instance cluster app with `cwd: __dirname` (every switch swaps); `crash` dies 0.5 s after start. */
function writeRelease(root: string, name: string, crash = false): string {
  const dir = path.join(root, 'releases', name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'server.js'), `${crash ? 'setTimeout(() => process.exit(3), 500)\n' : ''}setInterval(() => {}, 1 << 30)\n`)
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, exec_mode: 'cluster', instances: 2 }] }\n`)
  return fs.realpathSync(dir)
}

describe.each(PACKAGES)('against a %s daemon', (pkg) => {
  const version = pm2VersionOf(pkg)
  let d: TestDaemon
  let root: string
  const run = (inputs: Record<string, string>, pm2Path = pm2BinOf(pkg)) =>
    runAction({ inputs: { 'environment-suffix': '-test', whitelist: '', 'stable-seconds': '1', 'timeout-seconds': '40', 'pm2-path': pm2Path, ...inputs }, pm2Home: d.home, baseDir: d.dir, timeoutMs: 80_000 })
  const release = (name: string, extra: Record<string, string> = {}) =>
    run({ app: 'web', ecosystem: 'ecosystem.config.js', 'current-link': path.join(root, 'current'), 'release-dir': path.join(root, 'releases', name), ...extra })
  const cwds = () => d.jlistRaw().filter((p) => p.name === 'web-test').map((p) => fs.readlinkSync(`/proc/${p.pid}/cwd`))
  const neighbour = () => d.fingerprint((n) => n === 'neighbour-api')

  beforeAll(async () => {
    d = newDaemon(`v-${pkg}`, pkg)
    root = fs.realpathSync(d.dir)
    d.start({ name: 'neighbour-api', script: `${APPS}/idle.cjs`, instances: 2 })
    await d.waitOnline()
  })

  test(`${version}: the read path through this pm2's own axon modules: the list and version over RPC, restarts on the event bus`, async () => {
    const pm2 = await Pm2Session.open({ pm2Path: pm2BinOf(pkg), pm2Home: d.home, env: testEnv(d.home), workingDirectory: d.dir })
    sessions.push(pm2)
    expect(pm2.readPath).toBe('rpc')
    expect(pm2.cliVersion).toBe(version)
    expect(await pm2.daemonVersion()).toBe(version)
    expect((await pm2.list()).filter((p) => p.name === 'neighbour-api').map((p) => p.status)).toEqual(['online', 'online'])
    const sleep = await pm2.eventSleep(new Set(['neighbour-api']))
    expect(sleep).not.toBeNull()
    // A sleep far longer than the test's timeout: only the daemon's restart event can end it.
    const woke = sleep!(600_000)
    d.pm2(['-s', 'restart', 'neighbour-api'])
    await woke
  }, 30_000)

  test(`${version}: a deploy and a release switch (one delete for the old instances); versions read over RPC`, async () => {
    const before = neighbour()
    const r1 = writeRelease(root, 'r1')
    const first = await release('r1')
    expect(first.outputs.result, first.stdout).toBe('deployed')
    expect(cwds()).toEqual([r1, r1])
    const meta = report(first).metadata!
    expect(meta).toMatchObject({ pm2CliVersion: version, pm2DaemonVersion: version, pm2ReadPath: 'rpc' })
    expect(report(first).warnings.join('\n')).not.toMatch(/supported range|differ/)

    const r2 = writeRelease(root, 'r2')
    const second = await release('r2')
    expect(second.outputs.result, second.stdout).toBe('deployed')
    expect(cwds()).toEqual([r2, r2])
    expect(report(second).commands.map((c) => c.command).filter((c) => /^pm2 (start|delete)/.test(c))).toEqual([
      expect.stringMatching(new RegExp(`^pm2 start ${r2}/server.js --name web-test --cwd ${r2} -i 2`)),
      expect.stringMatching(/^pm2 delete \d+ \d+$/)
    ])
    expect(neighbour()).toEqual(before)
  })

  test(`${version}: a crash-looping release is rolled back to the previous one`, async () => {
    const r2 = path.join(root, 'releases', 'r2')
    writeRelease(root, 'r3', true)
    const r = await release('r3')
    expect(r.outputs.result, r.stdout).toBe('rolled-back')
    expect(r.code).toBe(1)
    expect(fs.realpathSync(path.join(root, 'current'))).toBe(r2)
    expect(cwds()).toEqual([r2, r2])
    // The new instances removed in one call too; the old ones never stopped.
    expect(report(r).commands.map((c) => c.command)).toContainEqual(expect.stringMatching(/^pm2 delete \d+ \d+$/))
  })

  test(`${version}: a crash loop fails the deploy, with the app's last log lines`, async () => {
    const eco = path.join(d.dir, 'loop.config.cjs')
    fs.writeFileSync(eco, `module.exports = { apps: [{ name: 'loop-test', script: ${JSON.stringify(`${APPS}/crash-loop.cjs`)}, env: { CRASH_AFTER_MS: '500' } }] }\n`)
    // A window well past the crash: on busy cores node itself may take a second to boot.
    const r = await run({ app: 'loop', ecosystem: eco, 'working-directory': d.dir, 'stable-seconds': '4' }).finally(() => d.pm2(['-s', 'delete', 'loop-test']))
    expect(r.outputs.result, r.stdout).toBe('failed')
    expect(report(r).title).toBe('Deploy not healthy')
    expect(r.stdout).toContain('cannot connect to the database (simulated)')
  })

  test(`${version}: an own app that deletes a neighbour is a SAFETY ABORT`, async () => {
    const marker = path.join(d.dir, 'rogue-ran')
    const eco = path.join(d.dir, 'rogue.config.cjs')
    const env = { ROGUE_PM2_BIN: d.pm2Bin, ROGUE_TARGET: 'neighbour-api', ROGUE_MARKER: marker }
    fs.writeFileSync(eco, `module.exports = { apps: [{ name: 'rogue-test', script: ${JSON.stringify(`${APPS}/rogue-cleanup.cjs`)}, env: ${JSON.stringify(env)} }] }\n`)
    const r = await run({ app: 'rogue', ecosystem: eco, 'working-directory': d.dir })
    expect(fs.existsSync(marker)).toBe(true)
    expect(r.outputs.result, r.stdout).toBe('failed')
    expect(report(r).title).toBe('SAFETY ABORT')
    // Gone, or still on its way out when the end check runs (busy cores): either way a SAFETY ABORT naming it.
    expect(report(r).message).toMatch(/^SAFETY ABORT: .*neighbour-api: (2 process\(es\) before, 0 after|pm_id \d+ was online, now stopping)/)
  })

  test.runIf(pkg !== 'pm2')(`${version}: the 7.x CLI against this daemon: the warning names both versions`, async () => {
    const r = await release('r2', { 'dry-run': 'true', 'pm2-path': pm2BinOf('pm2') })
    expect(r.outputs.result, r.stdout).toBe('dry-run')
    expect(report(r).metadata).toMatchObject({ pm2CliVersion: pm2VersionOf('pm2'), pm2DaemonVersion: version })
    expect(r.stdout).toMatch(new RegExp(`::warning::the pm2 CLI \\(${pm2VersionOf('pm2')}\\) and the running PM2 daemon \\(${version}\\) differ`))
  })
})

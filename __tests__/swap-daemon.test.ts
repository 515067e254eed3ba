// The swap on a real PM2 daemon (private PM2_HOME): a 2-instance cluster HTTP app whose
// file uses `cwd: __dirname` is switched r1 → r2 under a bounded in-process load loop,
// through the session's gate: `pm2 start r2/server.js --name web -i 2` beside the old
// instances, then each old instance deleted by pm_id. No request may fail.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { planMoves, planSwap, ecosystemOptionFlags, type AppTarget } from '../src/core/swap.js'
import { staleProcesses } from '../src/core/release.js'
import { verifyOwnHealthy } from '../src/core/verify.js'
import { fetchStatus } from '../src/shell/health.js'
import { Pm2Session } from '../src/shell/pm2/session.js'
import { runningFacts } from '../src/shell/proc.js'
import { liveRelease, restoreLink, switchLink } from '../src/shell/release.js'
import { APPS, daemonsForThisFile, PM2_BIN, ROOT, testEnv } from './helpers/daemon.js'
import { freePort, loadLoop, probe, until } from './helpers/load.js'

// The bundled reader (global setup bundles dist/ for the e2e tests).
const READER = path.join(ROOT, 'dist', 'reader', 'index.js')

const daemon = daemonsForThisFile()
const sessions: Pm2Session[] = []
afterAll(() => sessions.forEach((s) => s.close()))

function release(root: string, name: string, port: number): string {
  const dir = path.join(root, 'releases', name)
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(path.join(APPS, 'http-server.cjs'), path.join(dir, 'server.js'))
  const app = { name: 'web', script: 'server.js', cwd: '__DIRNAME__', exec_mode: 'cluster', instances: 2, kill_timeout: 3000, env: { PORT: String(port), RELEASE: 'unset' }, env_production: { RELEASE: name } }
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [${JSON.stringify(app).replace('"__DIRNAME__"', '__dirname')}] }\n`)
  return fs.realpathSync(dir)
}

test('swap r1 → r2 of a 2-instance cluster app: 0 failed requests, every worker in r2', async () => {
  const d = daemon('swap')
  const port = await freePort()
  const root = fs.realpathSync(d.dir)
  const r1 = release(root, 'r1', port)
  const r2 = release(root, 'r2', port)
  const current = path.join(root, 'current')
  fs.symlinkSync(r1, current)
  d.pm2(['-s', 'start', path.join(current, 'ecosystem.config.js'), '--env', 'production'], {}, current)
  await d.waitOnline()

  const pm2 = await Pm2Session.open({ pm2Path: PM2_BIN, pm2Home: d.home, env: testEnv(d.home), workingDirectory: r2, readerBundle: READER })
  sessions.push(pm2)
  const own = new Set(['web'])
  const load = loadLoop(port)
  await new Promise((r) => setTimeout(r, 1000))

  const switchedAt = Date.now()
  switchLink(current, r2)
  const want: AppTarget = { name: 'web', script: path.join(r2, 'server.js'), cwd: r2, interpreter: 'node', execMode: 'cluster', instances: 2, namespace: null }
  const before = await pm2.list()
  const [move] = planMoves([want], before)
  expect(move?.kind).toBe('swap')
  if (move?.kind !== 'swap') return
  const { flags } = ecosystemOptionFlags({ kill_timeout: 3000 })
  // The app's env reaches pm2 through the ecosystem reader (never through the action): env, then env_production.
  const { start, deletes } = planSwap(move, want, before, { flags, envFrom: { ecosystem: path.join(r2, 'ecosystem.config.js'), envName: 'production' } })
  const startedAt = new Date().toISOString().slice(11, 23)
  const sent = await pm2.send(start, own)
  expect(sent.exitCode).toBe(0)
  // The new set: online, same pids for a second, and r2 answering on the shared port.
  const fresh = await until('the new instances online', async () => {
    const mine = (await pm2.list()).filter((p) => p.name === 'web' && !move.oldPmIds.includes(p.pmId))
    return mine.length === 2 && mine.every((p) => p.status === 'online') ? mine : null
  })
  await new Promise((r) => setTimeout(r, 1000))
  const again = (await pm2.list()).filter((p) => fresh.some((f) => f.pmId === p.pmId))
  expect(again.map((p) => [p.pid, p.restarts])).toEqual(fresh.map((p) => [p.pid, p.restarts]))
  await until('r2 answering on a new connection', async () => ((await probe(port)) === 'r2' ? true : null))
  const marks = [`start sent ${startedAt}`]
  for (const del of deletes) {
    marks.push(`delete ${del.pmId} sent ${new Date().toISOString().slice(11, 23)}`)
    expect((await pm2.send(del, own)).exitCode).toBe(0)
  }
  const beforeStop = load.stats.byRelease.r1 ?? 0
  await new Promise((r) => setTimeout(r, 1500))
  const stats = await load.stop()

  const after = await pm2.list()
  const mine = after.filter((p) => p.name === 'web')
  expect(mine.map((p) => p.pmId).sort()).toEqual(fresh.map((p) => p.pmId).sort())
  expect(staleProcesses(runningFacts(mine), new Map([['web', want]]), { switchedAt, releaseDir: r2 })).toEqual([])
  for (const f of runningFacts(mine)) expect(f.procCwd).toBe(r2)
  console.log(`swap r1 → r2 under load: ${stats.ok} ok, ${stats.failed} failed; by release ${JSON.stringify(stats.byRelease)}; r1 answers after the deletes: ${(stats.byRelease.r1 ?? 0) - beforeStop}; commands: ${pm2.sent.map((s) => s.command).join(' | ')}`)
  expect(stats.failed, `${stats.errors.join('; ')}; ${marks.join(', ')}`).toBe(0)
  expect(stats.byRelease.r2).toBeGreaterThan(0)
  for (let i = 0; i < 6; i++) expect(await probe(port)).toBe('r2')
}, 120_000)

test('the stale-release trap the swap avoids: startOrReload after the switch leaves r1 code running', async () => {
  const d = daemon('trap')
  const port = await freePort()
  const root = fs.realpathSync(d.dir)
  const r1 = release(root, 'r1', port)
  const r2 = release(root, 'r2', port)
  const current = path.join(root, 'current')
  fs.symlinkSync(r1, current)
  d.pm2(['-s', 'start', path.join(current, 'ecosystem.config.js'), '--env', 'production'], {}, current)
  await d.waitOnline()
  const switchedAt = Date.now()
  switchLink(current, r2)
  d.pm2(['-s', 'startOrReload', path.join(current, 'ecosystem.config.js'), '--env', 'production', '--update-env'], {}, current)
  await d.waitOnline()
  const pm2 = await Pm2Session.open({ pm2Path: PM2_BIN, pm2Home: d.home, env: testEnv(d.home), workingDirectory: r2 })
  sessions.push(pm2)
  const mine = (await pm2.list()).filter((p) => p.name === 'web')
  const want: AppTarget = { name: 'web', script: path.join(r2, 'server.js'), cwd: r2, interpreter: 'node', execMode: 'cluster', instances: 2, namespace: null }
  const stale = staleProcesses(runningFacts(mine), new Map([['web', want]]), { switchedAt, releaseDir: r2 })
  expect(stale).toHaveLength(2)
  expect(stale[0]!.message).toMatch(/runs from .*releases\/r1, the file says .*releases\/r2/)
}, 120_000)

test('for comparison: recreate (delete, then start) under the same load loop, reported not asserted', async () => {
  const d = daemon('recreate')
  const port = await freePort()
  const root = fs.realpathSync(d.dir)
  const r1 = release(root, 'r1', port)
  const r2 = release(root, 'r2', port)
  const current = path.join(root, 'current')
  fs.symlinkSync(r1, current)
  d.pm2(['-s', 'start', path.join(current, 'ecosystem.config.js'), '--env', 'production'], {}, current)
  await d.waitOnline()
  const load = loadLoop(port)
  await new Promise((r) => setTimeout(r, 1000))
  switchLink(current, r2)
  // Asynchronously, so the load loop keeps running while pm2 works (d.pm2 blocks the event loop).
  const pm2Async = (args: string[]) =>
    new Promise<void>((resolve, reject) => execFile(process.execPath, [PM2_BIN, ...args], { env: testEnv(d.home), cwd: current }, (err) => (err ? reject(err) : resolve())))
  await pm2Async(['-s', 'delete', 'web'])
  await pm2Async(['-s', 'start', path.join(current, 'ecosystem.config.js'), '--env', 'production'])
  await until('r2 answering on a new connection', async () => ((await probe(port)) === 'r2' ? true : null))
  await new Promise((r) => setTimeout(r, 1500))
  const stats = await load.stop()
  console.log(`recreate r1 → r2 under load: ${stats.ok} ok, ${stats.failed} failed (${stats.errors.join('; ')}); by release ${JSON.stringify(stats.byRelease)}`)
  expect(stats.byRelease.r2).toBeGreaterThan(0)
}, 120_000)

test('the reader: swap flags in its answer; the exec mode runs a command with the app env (name/namespace/pm_id dropped)', async () => {
  const dir = fs.realpathSync(daemon('reader').dir)
  const file = path.join(dir, 'ecosystem.config.js')
  const app = { name: 'web', script: 'server.js', node_args: '--max-old-space-size=256', merge_logs: true, min_uptime: 5000, args: '--port 3000', env: { A: 'base', name: 'evil' }, env_production: { A: 'prod', namespace: 'x' } }
  fs.writeFileSync(file, `module.exports = { apps: [${JSON.stringify(app)}] }\n`)
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [READER, ...args], { env: { PATH: process.env.PATH ?? '', KEEP: 'k' }, cwd: dir }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
    )
  const answer = (await run([file])).split('\n').find((l) => l.startsWith('@@pm2-safe-deploy-ecosystem@@'))!
  const parsed = JSON.parse(answer.slice('@@pm2-safe-deploy-ecosystem@@'.length)) as { apps: Array<{ swap: unknown }> }
  expect(parsed.apps[0]!.swap).toEqual({ flags: ['--node-args=--max-old-space-size=256', '--merge-logs'], unsupported: ['min_uptime'], args: ['--port', '3000'] })
  expect(answer).not.toContain('prod')
  const printed = await run(['--exec-with-app-env', file, 'web', 'production', '--', process.execPath, '-e', 'console.log(JSON.stringify([process.env.A, process.env.KEEP, process.env.name, process.env.namespace]))'])
  expect(JSON.parse(printed)).toEqual(['prod', 'k', null, null])
})

test('a crash-looping r2 in a swap: the new set fails verification, is removed by pm_id, the link goes back, r1 kept serving', async () => {
  const d = daemon('rollback')
  const port = await freePort()
  const root = fs.realpathSync(d.dir)
  const r1 = release(root, 'r1', port)
  const r2 = release(root, 'r2', port)
  // r2 listens, then dies after 1.5 s: a release that looks fine at first.
  fs.writeFileSync(path.join(r2, 'server.js'), `${fs.readFileSync(path.join(APPS, 'http-server.cjs'), 'utf8')}\nsetTimeout(() => process.exit(1), 1500)\n`)
  const current = path.join(root, 'current')
  fs.symlinkSync(r1, current)
  d.pm2(['-s', 'start', path.join(current, 'ecosystem.config.js'), '--env', 'production'], {}, current)
  await d.waitOnline()
  const pm2 = await Pm2Session.open({ pm2Path: PM2_BIN, pm2Home: d.home, env: testEnv(d.home), workingDirectory: r2, readerBundle: READER })
  sessions.push(pm2)
  const own = new Set(['web'])
  const load = loadLoop(port)
  await new Promise((r) => setTimeout(r, 1000))

  const { previous } = switchLink(current, r2)
  const want: AppTarget = { name: 'web', script: path.join(r2, 'server.js'), cwd: r2, interpreter: 'node', execMode: 'cluster', instances: 2, namespace: null }
  const before = await pm2.list()
  const [move] = planMoves([want], before)
  if (move?.kind !== 'swap') throw new Error('expected a swap')
  const { start } = planSwap(move, want, before, { flags: ['--kill-timeout=3000'], envFrom: { ecosystem: path.join(r2, 'ecosystem.config.js'), envName: 'production' } })
  expect((await pm2.send(start, own)).exitCode).toBe(0)
  // Verify the new set only: the list without the old instances.
  const old = new Set(move.oldPmIds)
  const detectedAt = Date.now()
  const verdict = await verifyOwnHealthy({
    ownNames: ['web'],
    expectedCounts: new Map([['web', 2]]),
    stableSeconds: 4,
    timeoutSeconds: 30,
    healthUrls: [],
    list: async () => (await pm2.list()).filter((p) => !old.has(p.pmId)),
    fetchStatus
  })
  expect(verdict.ok).toBe(false)
  expect(verdict.reason).toMatch(/crash loop|restarted|errored/)
  // Rollback of a swap: the link back, the new instances removed by pm_id (the old ones never stopped).
  restoreLink(current, previous)
  const fresh = (await pm2.list()).filter((p) => p.name === 'web' && !old.has(p.pmId))
  for (const p of fresh) expect((await pm2.send({ verb: 'delete-id', pmId: p.pmId, name: 'web', why: 'rollback: remove the new instances' }, own)).exitCode).toBe(0)
  const restoredMs = Date.now() - detectedAt
  await new Promise((r) => setTimeout(r, 1500))
  const during = { ...(await load.stop()) }
  const after = (await pm2.list()).filter((p) => p.name === 'web')
  expect(after.map((p) => p.pmId).sort()).toEqual([...old].sort())
  expect(after.every((p) => p.status === 'online')).toBe(true)
  expect(liveRelease(current)).toBe(r1)
  for (let i = 0; i < 6; i++) expect(await probe(port)).toBe('r1')
  console.log(
    `crash-looping r2 swap, rolled back: ${during.ok} ok, ${during.failed} failed during the deploy (${during.errors.join('; ')}); ` +
      `by release ${JSON.stringify(during.byRelease)}; detection ${verdict.ms} ms after the start; new set removed ${restoredMs} ms after verification began`
  )
}, 120_000)

test('for comparison: pm2 reload in place (no switch) under the same load loop, reported not asserted', async () => {
  const d = daemon('reload')
  const port = await freePort()
  const root = fs.realpathSync(d.dir)
  const r1 = release(root, 'r1', port)
  d.pm2(['-s', 'start', path.join(r1, 'ecosystem.config.js'), '--env', 'production'], {}, r1)
  await d.waitOnline()
  const load = loadLoop(port)
  await new Promise((r) => setTimeout(r, 1000))
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, [PM2_BIN, '-s', 'reload', 'web'], { env: testEnv(d.home), cwd: r1 }, (err) => (err ? reject(err) : resolve()))
  )
  await new Promise((r) => setTimeout(r, 1500))
  const stats = await load.stop()
  console.log(`reload in place under load: ${stats.ok} ok, ${stats.failed} failed (${stats.errors.join('; ')})`)
}, 120_000)

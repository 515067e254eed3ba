// Kill-point recovery (issue 13, promise 6): the main step SIGKILLed at each phase boundary
// (lock taken, snapshot written, first command sent, a command in flight, inside the stability
// window, right after a release switch), then the post step of the same job, then a fresh deploy. The
// post step releases the lock and records the killed attempt; the fresh deploy succeeds;
// the neighbours never change. And the PM2 daemon killed at those points: a clear verdict,
// no daemon started. The kill is read off the step's own output by a preload hook
// (helpers/stop-at.cjs), so each run dies exactly at its point. Real daemon, bundled dist/.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import type { DeployReport } from '../src/core/report-schema.js'
import { DEFAULT_AUDIT_FILE_NAME, type AuditRecord } from '../src/shell/audit.js'
import { shellQuote } from '../src/core/report/shell-quote.js'
import { LOCK_FILE_NAME, readLock } from '../src/shell/lock.js'
import { APPS, daemonsForThisFile, ROOT, type TestDaemon } from './helpers/daemon.js'
import { readAudit, startAction, stopStarted, waitFor, type StartedAction } from './helpers/lock-scenarios.js'
import { endJob, runAction, runPost, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()
const started: StartedAction[] = []
// A step a failed test left frozen (SIGSTOP) is let go first, or it could not end.
afterEach(() => {
  for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGCONT')
  return stopStarted(started)
})

const STOP_AT = path.join(ROOT, '__tests__', 'helpers', 'stop-at.cjs')
const FLYER = { app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: 'flyer-crawler-api\nflyer-crawler-worker' }
const OWN = ['flyer-crawler-api-test', 'flyer-crawler-worker-test']
const neighbours = (n: string) => !OWN.includes(n) && n !== 'web-test'
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
let runIds = 9300

/** Neighbours of every kind (a cluster, a worker, the same suffix, the app's production) and the own -test processes. */
function crowdedHost(d: TestDaemon): void {
  d.start({ name: 'stock-alert-api', script: `${APPS}/http-server.cjs`, instances: 2, env: { PORT: '0' } })
  d.start({ name: 'stock-alert-worker', script: `${APPS}/idle.cjs` })
  d.start({ name: 'stock-alert-test', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-api', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-worker-test', script: `${APPS}/idle.cjs` })
}

/** The main step, stopped by itself with `signal` the moment it writes a line matching `at` (after `delayMs`). */
function startStopping(d: TestDaemon, inputs: Record<string, string>, at: string, signal: 'SIGKILL' | 'SIGSTOP', delayMs = 0): StartedAction {
  const s = startAction({
    inputs,
    pm2Home: d.home,
    baseDir: d.dir,
    runId: String(++runIds),
    nodeArgs: ['--require', STOP_AT],
    env: { PM2SD_TEST_STOP_AT: at, PM2SD_TEST_STOP_SIGNAL: signal, PM2SD_TEST_STOP_DELAY_MS: String(delayMs) },
    timeoutMs: 110_000
  })
  started.push(s)
  return s
}

/** A killed main step: dead by SIGKILL where it was told, the lock still held by it, no record of its own. */
async function killedAt(d: TestDaemon, s: StartedAction, reached: RegExp, notReached: RegExp | null): Promise<ActionRun> {
  const run = await s.done
  expect(s.child.signalCode, run.stdout + run.stderr).toBe('SIGKILL')
  expect(run.stdout).toMatch(reached)
  if (notReached) expect(run.stdout).not.toMatch(notReached)
  expect(run.stdout).not.toContain('==== pm2-safe-deploy')
  expect(readLock(path.join(d.home, LOCK_FILE_NAME))).toMatchObject({ kind: 'held', holder: { pid: s.pid } })
  return run
}

/** The post step of the killed job: the lock released, the killed attempt in the audit log. Then the job ends. */
async function postOfKilledJob(d: TestDaemon, run: ActionRun, pid: number): Promise<{ stdout: string; record: AuditRecord }> {
  const audit = path.join(d.home, DEFAULT_AUDIT_FILE_NAME)
  const recordsBefore = readAudit(audit).length
  const post = await runPost(run, d.home)
  endJob(run)
  expect(post.code, post.stdout + post.stderr).toBe(0)
  expect(post.stdout).toContain('::warning::The main step ended without releasing the host lock')
  expect(fs.existsSync(path.join(d.home, LOCK_FILE_NAME))).toBe(false)
  const added = readAudit(audit).slice(recordsBefore)
  expect(added).toHaveLength(1)
  expect(added[0]).toMatchObject({ result: 'failed', message: expect.stringContaining(`The main step (pid ${pid}, run ${run.jobEnv.GITHUB_RUN_ID}) died holding the host lock`) })
  return { stdout: post.stdout, record: added[0]! }
}

/** A fresh deploy (a new job, no hook) with its post step: deployed, nothing left for the post step. */
async function freshDeploy(d: TestDaemon, inputs: Record<string, string>): Promise<ActionRun> {
  const run = await runAction({ inputs, pm2Home: d.home, baseDir: d.dir, post: true, timeoutMs: 110_000 })
  expect(run.outputs.result, run.stdout).toBe('deployed')
  expect(run.post?.code).toBe(0)
  expect(run.post?.stdout).not.toContain('::warning::')
  expect(readAudit(path.join(d.home, DEFAULT_AUDIT_FILE_NAME)).at(-1)).toMatchObject({ result: 'deployed' })
  return run
}

const G = (name: string) => `^::group::${escape(name)}$`

const RELOAD = (name: string) => `pm2 reload ${name} --update-env`
const STARTED = 'pm2 commands it started (the last may not have finished): '

/** Where the main step dies: the line it dies on, what it wrote, what it never reached, and what the post step's record says of it. */
const KILL_POINTS: { point: string; at: string; delayMs?: number; reached: RegExp; notReached: RegExp; note: string; snapshot: boolean }[] = [
  { point: 'lock taken', at: '^Holding .*pm2-safe-deploy\\.lock$', reached: /Holding /, notReached: /::group::PM2 state before/, note: 'It had sent no pm2 command.', snapshot: false },
  { point: 'snapshot written', at: 'snapshot: ', reached: /snapshot: .*-before\.json/, notReached: /::group::Plan and preflight/, note: 'It had sent no pm2 command.', snapshot: true },
  { point: 'first command sent', at: '^pm2 \\S+ .* → exit ', reached: /→ exit 0/, notReached: /::group::Verify own processes/, note: `${STARTED}${RELOAD(OWN[0]!)}. Check`, snapshot: true },
  // The pm2 CLI it started outlives it (an orphan finishing the reload) while the post step and the fresh deploy run.
  { point: 'a command in flight', at: G('Deploy'), delayMs: 150, reached: /::group::Deploy/, notReached: /::group::Verify own processes/, note: `${STARTED}${RELOAD(OWN[0]!)}`, snapshot: true },
  {
    point: 'inside the stability window',
    at: G('Verify own processes'),
    delayMs: 1000,
    reached: /::group::Verify own processes/,
    notReached: /all own processes online and stable/,
    note: `${STARTED}${OWN.map(RELOAD).join('; ')}. Check`,
    snapshot: true
  }
]

describe('the main step SIGKILLed at each phase boundary, then the post step, then a fresh deploy', () => {
  let d: TestDaemon
  beforeAll(async () => {
    d = newDaemon('killpoints')
    crowdedHost(d)
    await d.waitOnline()
  })

  test.each(KILL_POINTS)('$point: lock released, attempt recorded, the fresh deploy succeeds, neighbours never changed', async (k) => {
    const before = d.fingerprint(neighbours)
    const s = startStopping(d, { ...FLYER, 'stable-seconds': '3', 'timeout-seconds': '60' }, k.at, 'SIGKILL', k.delayMs)
    const run = await killedAt(d, s, k.reached, k.notReached)
    expect(d.fingerprint(neighbours)).toEqual(before)
    const { stdout, record } = await postOfKilledJob(d, run, s.pid)
    expect(record.message).toContain(k.note)
    expect(stdout).toContain(k.note)
    // The before-snapshot, when taken, is named by the record and outlives the job (under PM2_HOME, not RUNNER_TEMP).
    const snapshot = run.stdout.match(/snapshot: (\S+)/)?.[1] ?? null
    expect(record.snapshots?.before ?? null).toBe(k.snapshot ? snapshot : null)
    if (snapshot) expect(fs.existsSync(snapshot)).toBe(true)
    expect(d.fingerprint(neighbours)).toEqual(before)
    const fresh = await freshDeploy(d, { ...FLYER, 'stable-seconds': '1' })
    expect(JSON.parse(fresh.outputs['own-processes']!)).toEqual(OWN)
    expect(fresh.stdout).not.toMatch(/stale|took it over|waiting for the host lock/i)
    expect(d.fingerprint(neighbours)).toEqual(before)
    expect(d.jlistRaw().filter((p) => OWN.includes(p.name)).map((p) => p.pm2_env.status)).toEqual(['online', 'online'])
  })
})

/** releases/<name>: a fork app whose ecosystem file runs it from its own directory (`cwd: __dirname`). */
function writeRelease(root: string, name: string): string {
  const dir = path.join(root, 'releases', name)
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(path.join(APPS, 'idle.cjs'), path.join(dir, 'server.js'))
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, env: { RELEASE: '${name}' } }] }\n`)
  return fs.realpathSync(dir)
}

describe('the main step SIGKILLed right after a release switch', () => {
  test('the post step records the half-done switch; a fresh deploy of the same release succeeds and runs it', async () => {
    const d = newDaemon('killswitch')
    const root = fs.realpathSync(d.dir)
    const link = path.join(root, 'current')
    const release = (name: string) => ({ app: 'web', 'environment-suffix': '-test', whitelist: '', ecosystem: 'ecosystem.config.js', 'current-link': link, 'release-dir': path.join(root, 'releases', name), 'stable-seconds': '1' })
    const cwds = () => d.jlistRaw().filter((p) => p.name === 'web-test').map((p) => fs.readlinkSync(`/proc/${p.pid}/cwd`))
    d.start({ name: 'neighbour-api', script: `${APPS}/idle.cjs` })
    const r1 = writeRelease(root, 'r1')
    await freshDeploy(d, release('r1'))
    expect(cwds()).toEqual([r1])
    const before = d.fingerprint(neighbours)

    const r2 = writeRelease(root, 'r2')
    const s = startStopping(d, { ...release('r2'), 'stable-seconds': '3' }, `^${escape(link)} → `, 'SIGKILL')
    const run = await killedAt(d, s, /::group::Release switch/, /::group::Deploy/)
    // Killed between the switch and the first command: the link names r2, the app still runs r1.
    expect(fs.realpathSync(link)).toBe(r2)
    expect(cwds()).toEqual([r1])
    const { stdout, record } = await postOfKilledJob(d, run, s.pid)
    const half = `A release switch was half done: ${link} names ${r2} (was ${r1}), but the processes may still run the previous release.`
    expect(record.message).toContain('It had sent no pm2 command.')
    expect(record.message).toContain(half)
    expect(record.message).toContain(`to go back by hand: ln -sfn -- ${shellQuote(r1)} ${shellQuote(link)}`)
    expect(stdout).toContain(half)

    // A fresh deploy of the same release: the link is there already, the app still on r1 (kept as the rollback target); it deploys and runs r2.
    const fresh = await freshDeploy(d, release('r2'))
    expect(fresh.stdout).toContain(`${link} already names ${r2}, but own processes run ${r1}: a switch cut short`)
    expect(cwds()).toEqual([r2])
    expect(fs.realpathSync(link)).toBe(r2)
    expect(d.fingerprint(neighbours)).toEqual(before)
  })
})

/** Where the daemon dies: the main step is frozen (SIGSTOP) on the line, the daemon killed, the step let go (SIGCONT). */
const DAEMON_KILL_POINTS: { point: string; at: string; result: 'aborted' | 'failed' }[] = [
  { point: 'lock taken', at: '^Holding .*pm2-safe-deploy\\.lock$', result: 'aborted' },
  { point: 'snapshot written', at: 'snapshot: ', result: 'aborted' },
  { point: 'first command sent', at: '^pm2 \\S+ .* → exit ', result: 'failed' }
]

describe('the PM2 daemon killed mid-deploy (the stability window: restore.test.ts)', () => {
  test.each(DAEMON_KILL_POINTS)('$point: a clear `$result` naming the daemon gone, no daemon started, the lock released, the attempt recorded', async (k) => {
    const d = newDaemon('daemonkill')
    crowdedHost(d)
    await d.waitOnline()
    const s = startStopping(d, { ...FLYER, 'stable-seconds': '3', 'timeout-seconds': '60' }, k.at, 'SIGSTOP')
    await waitFor(`the step to stop at ${k.point}`, () => new RegExp(k.at, 'm').test(s.stdout()), s)
    d.kill()
    s.child.kill('SIGCONT')
    const run = await s.done
    expect(run.code, run.stdout).toBe(1)
    expect(run.outputs.result, run.stdout).toBe(k.result)
    const report = JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8')) as DeployReport
    expect(report.title).toBe('PM2 daemon gone')
    expect(report.message).toMatch(new RegExp(`^The PM2 daemon at ${escape(d.home)} is gone`))
    expect(run.stdout + run.stderr).not.toMatch(/Unexpected error|\n\s+at .+:\d+:\d+\)?\n|went down|now stopping/)
    expect(run.stdout).not.toMatch(/pm2 (start|restart|scale) /)
    expect(fs.existsSync(path.join(d.home, 'pm2.pid'))).toBe(false)
    expect(fs.existsSync(path.join(d.home, LOCK_FILE_NAME))).toBe(false)
    expect(readAudit(path.join(d.home, DEFAULT_AUDIT_FILE_NAME)).at(-1)).toMatchObject({ result: k.result, message: expect.stringMatching(/^The PM2 daemon at .* is gone/) })
    const post = await runPost(run, d.home)
    expect(post.code).toBe(0)
    expect(post.stdout).not.toContain('::warning::')
    // Still no daemon: neither step started one.
    expect(fs.existsSync(path.join(d.home, 'pm2.pid'))).toBe(false)
  })
})

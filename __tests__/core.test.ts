// The guarded deploy against a real PM2 daemon on a private PM2_HOME, run from the
// bundle as a runner runs it. Each test states the promise it would catch breaking.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { APPS, daemonsForThisFile, PM2_BIN, TestDaemon } from './helpers/daemon.js'
import { readAllFiles, runAction, runPost, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()

const FLYER = { app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: 'flyer-crawler-api\nflyer-crawler-worker' }
const isOwnTest = (n: string) => n === 'flyer-crawler-api-test' || n === 'flyer-crawler-worker-test'

/** The crowded host of the incident: a neighbour with two names (one clustered), the prod env, a same-suffix neighbour. */
function crowdedHost(d: TestDaemon, extraEnv: Record<string, string> = {}): void {
  d.start({ name: 'stock-alert-api', script: `${APPS}/http-server.cjs`, instances: 2, env: { PORT: '0', ...extraEnv } })
  d.start({ name: 'stock-alert-worker', script: `${APPS}/idle.cjs`, env: extraEnv })
  d.start({ name: 'stock-alert-test', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-api', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-worker', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/print-env.cjs` })
  d.start({ name: 'flyer-crawler-worker-test', script: `${APPS}/idle.cjs` })
}

function expectAbortedCleanly(run: ActionRun, message: RegExp): void {
  expect(run.outputs.result).toBe('aborted')
  expect(run.code).toBe(1)
  expect(run.stdout).toMatch(message)
  // A user mistake gets a message, not a stack trace.
  expect(run.stdout + run.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/)
}

describe('on a crowded host', () => {
  let d: TestDaemon
  beforeAll(async () => {
    d = newDaemon('crowded')
    crowdedHost(d, { SECRET_TOKEN: 's3cr3t-neighbour-value-9f8e7d' })
    await d.waitOnline()
  })

  test('restarts exactly the own processes; every other pid is unchanged (promises 1, 3)', async () => {
    const before = d.fingerprint()
    const run = await runAction({ inputs: { ...FLYER, strategy: 'restart' }, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.code).toBe(0)
    expect(run.outputs.violations).toBe('0')
    expect(JSON.parse(run.outputs['own-processes']!)).toEqual(['flyer-crawler-api-test', 'flyer-crawler-worker-test'])
    const after = d.fingerprint()
    for (const name of Object.keys(before)) {
      if (isOwnTest(name)) expect(after[name], name).not.toEqual(before[name])
      else expect(after[name], name).toEqual(before[name])
    }
    // The same-suffix neighbour a `endsWith('-test')` cleanup would have taken down.
    expect(after['stock-alert-test']).toEqual(before['stock-alert-test'])
    expect(fs.existsSync(run.outputs['snapshot-before']!)).toBe(true)
    expect(fs.existsSync(run.outputs['snapshot-after']!)).toBe(true)
    const report = JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))
    expect(report.commands.map((c: { command: string }) => c.command)).toEqual([
      'pm2 restart flyer-crawler-api-test flyer-crawler-worker-test --update-env',
      'pm2 save'
    ])
    expect(await runPost(run, d.home)).toMatchObject({ code: 0 })
  })

  test('reload (default) also touches own processes only, and writes the metadata first', async () => {
    const before = d.fingerprint((n) => !isOwnTest(n))
    const run = await runAction({ inputs: FLYER, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(d.fingerprint((n) => !isOwnTest(n))).toEqual(before)
    const metadataAt = run.stdout.indexOf('::group::Workflow metadata')
    const deployAt = run.stdout.indexOf('::group::Deploy')
    expect(metadataAt).toBeGreaterThan(-1)
    expect(metadataAt).toBeLessThan(deployAt)
    expect(run.stdout).toMatch(/repository: acme\/flyer-crawler/)
    expect(run.stdout).toMatch(/pm2DaemonVersion: \d+\.\d+/)
  })

  test("a neighbour's secret appears in no file the action writes and not in its output (promise 2)", async () => {
    const run = await runAction({ inputs: FLYER, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    // The daemon does hold it: the test would be empty otherwise.
    expect(JSON.stringify(d.jlistRaw())).toContain('s3cr3t-neighbour-value-9f8e7d')
    const written = [...readAllFiles(run.runnerDir), ...readAllFiles(d.home).filter((f) => f.file.endsWith('.jsonl') || f.file.endsWith('.lock') || f.file.includes('/pm2-safe-deploy/runs/'))]
    expect(written.length).toBeGreaterThan(4)
    for (const { file, text } of written) expect(text, file).not.toContain('s3cr3t-neighbour-value-9f8e7d')
    expect(run.stdout + run.stderr).not.toContain('s3cr3t-neighbour-value-9f8e7d')
  })

  test("the runner's variables do not reach the restarted apps; the step's own env does (promise 7)", async () => {
    const run = await runAction({
      inputs: { ...FLYER, strategy: 'restart' },
      pm2Home: d.home,
      baseDir: d.dir,
      env: { RELEASE_TAG: 'v2.3.4', GITHUB_TOKEN: 'ghs_token_value', name: 'evil', namespace: 'evil-ns' }
    })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    const app = d.jlistRaw().find((p) => p.name === 'flyer-crawler-api-test')!
    const env = app.pm2_env.env ?? {}
    const keys = [...Object.keys(env), ...Object.keys(app.pm2_env)]
    expect(keys).not.toContain('RUNNER_TRACKING_ID')
    expect(keys).not.toContain('ACTIONS_RUNTIME_TOKEN')
    expect(keys).not.toContain('GITHUB_TOKEN')
    expect(keys).not.toContain('GITHUB_OUTPUT')
    expect(keys.filter((k) => k.startsWith('INPUT_'))).toEqual([])
    expect(JSON.stringify(app.pm2_env)).not.toContain('github_tracking_id_test')
    expect(app.pm2_env.namespace).toBe('default')
    expect(env.RELEASE_TAG).toBe('v2.3.4')
  })

  test('dry-run plans and checks but changes nothing', async () => {
    const before = d.fingerprint()
    const run = await runAction({ inputs: { ...FLYER, 'dry-run': 'true' }, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('dry-run')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/pm2 reload flyer-crawler-api-test --update-env/)
    expect(d.fingerprint()).toEqual(before)
  })

  test('an own name PM2 does not have is an error before anything changes', async () => {
    const before = d.fingerprint()
    const run = await runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api\nflyer-crawler-mailer' }, pm2Home: d.home, baseDir: d.dir })
    expectAbortedCleanly(run, /PM2 has no process named "flyer-crawler-mailer-test"/)
    expect(d.fingerprint()).toEqual(before)
  })
})

describe('names PM2 reads as something else', () => {
  let d: TestDaemon
  beforeAll(async () => {
    d = newDaemon('names')
    d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs` }) // pm_id 0
    d.start({ name: '0', script: `${APPS}/idle.cjs` }) // a neighbour named like our pm_id
    d.start({ name: 'legacy-api', script: `${APPS}/idle.cjs` })
    d.start({ name: 'api-v2', script: `${APPS}/idle.cjs`, namespace: 'billing' })
    await d.waitOnline()
  })

  test('a neighbour named with a number equal to an own pm_id is untouched', async () => {
    const before = d.fingerprint((n) => n !== 'flyer-crawler-api-test')
    const run = await runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api', strategy: 'restart' }, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(d.fingerprint((n) => n !== 'flyer-crawler-api-test')).toEqual(before)
  })

  test.each([
    ['all', /does not start with the app name/],
    ['/api/', /contains "\/"/],
    ['default', /does not start with the app name/],
    ['flyer-crawler-api-test', /drop the suffix/],
    ['flyer-crawler.json', /config file/]
  ])('whitelist entry %j is refused clearly and nothing is touched', async (entry, message) => {
    const before = d.fingerprint()
    const run = await runAction({ inputs: { ...FLYER, whitelist: `flyer-crawler-api\n${entry}` }, pm2Home: d.home, baseDir: d.dir })
    expectAbortedCleanly(run, message)
    expect(d.fingerprint()).toEqual(before)
  })

  test('an app whose own name PM2 would read as the namespace `default` is refused', async () => {
    const before = d.fingerprint()
    const run = await runAction({ inputs: { app: 'default', whitelist: 'default' }, pm2Home: d.home, baseDir: d.dir })
    expectAbortedCleanly(run, /"default" is also the namespace of/)
    expect(d.fingerprint()).toEqual(before)
  })

  test('a neighbour whose namespace is named like an own process: refused, nothing touched', async () => {
    d.start({ name: 'billing-worker', script: `${APPS}/idle.cjs`, namespace: 'flyer-crawler-api-test' })
    await d.waitOnline()
    const before = d.fingerprint()
    const run = await runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api' }, pm2Home: d.home, baseDir: d.dir })
    expectAbortedCleanly(run, /"flyer-crawler-api-test" is also the namespace of billing-worker/)
    expect(d.fingerprint()).toEqual(before)
    d.pm2(['-s', 'delete', 'billing-worker'])
  })
})

describe('a neighbour killed by someone else during the deploy', () => {
  let d: TestDaemon
  afterEach(() => d?.destroy())

  test('fails the job with SAFETY ABORT and counts the violation (promise 3)', async () => {
    d = newDaemon('killed')
    d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs` })
    d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs` })
    await d.waitOnline()
    const pending = runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api', 'stable-seconds': '6' }, pm2Home: d.home, baseDir: d.dir })
    // Wait until the action holds the lock and has snapshotted, then stop the neighbour.
    const deadline = Date.now() + 30_000
    while (!fs.existsSync(path.join(d.home, 'pm2-safe-deploy.lock')) || !hasBeforeSnapshot(d.dir)) {
      if (Date.now() > deadline) throw new Error('the action never took the lock')
      await new Promise((r) => setTimeout(r, 100))
    }
    await new Promise((r) => setTimeout(r, 1500))
    d.pm2(['-s', 'stop', 'stock-alert-api'])
    const run = await pending
    expect(run.outputs.result, run.stdout).toBe('failed')
    expect(run.code).toBe(1)
    expect(Number(run.outputs.violations)).toBeGreaterThanOrEqual(1)
    expect(run.stdout).toMatch(/SAFETY ABORT: other apps changed .*stock-alert-api: pm_id 0 was online, now stopped/)
    expect(run.stdout).toMatch(/::error title=pm2-safe-deploy%3A SAFETY ABORT::SAFETY ABORT/)
    // A failed deploy is never saved.
    expect(run.stdout).not.toMatch(/::group::Save/)
  })
})

function hasBeforeSnapshot(dir: string): boolean {
  return readAllFiles(dir).some((f) => f.file.endsWith('-before.json'))
}

describe('no daemon, no pm2', () => {
  test('a wrong PM2_HOME is a clear error and no daemon is started there (promise 8)', async () => {
    const d = newDaemon('nodaemon')
    const wrongHome = path.join(d.dir, 'not-a-pm2-home')
    const run = await runAction({ inputs: FLYER, pm2Home: wrongHome, baseDir: d.dir })
    expectAbortedCleanly(run, /No PM2 daemon answers at .*not-a-pm2-home\/rpc\.sock.*Set `pm2-home`/)
    expect(fs.existsSync(path.join(wrongHome, 'rpc.sock'))).toBe(false)
    expect(fs.existsSync(path.join(wrongHome, 'pm2.pid'))).toBe(false)
    // An existing but dead PM2_HOME (the daemon was killed): same.
    fs.mkdirSync(path.join(d.dir, 'dead-home'))
    const dead = await runAction({ inputs: FLYER, pm2Home: path.join(d.dir, 'dead-home'), baseDir: d.dir })
    expectAbortedCleanly(dead, /daemon is not running/)
    expect(fs.existsSync(path.join(d.dir, 'dead-home', 'rpc.sock'))).toBe(false)
  })

  test('pm2 missing is a clear error that says how to set pm2-path', async () => {
    const d = newDaemon('nopm2')
    d.ping()
    const byPath = await runAction({ inputs: { ...FLYER, 'pm2-path': '/nonexistent/bin/pm2' }, pm2Home: d.home, baseDir: d.dir })
    expectAbortedCleanly(byPath, /pm2 not found: "\/nonexistent\/bin\/pm2" is not an executable file.*Set the `pm2-path` input/)
    const byName = await runAction({ inputs: { ...FLYER, 'pm2-path': 'pm2-not-installed' }, pm2Home: d.home, baseDir: d.dir })
    expectAbortedCleanly(byName, /"pm2-not-installed" is not on the runner's PATH/)
  })
})

describe('a pm2 that prints garbage around its JSON', () => {
  test('the CLI read path takes the list out of the noise and deploys safely', async () => {
    const d = newDaemon('garbage')
    d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs` })
    d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs` })
    await d.waitOnline()
    // A wrapper (no pm2 package beside it, so no RPC) that prints banners on stdout.
    const wrapper = path.join(d.dir, 'bin', 'pm2')
    fs.mkdirSync(path.dirname(wrapper))
    fs.writeFileSync(
      wrapper,
      `#!${process.execPath}\nconsole.log('>>>> In-memory PM2 is out-of-date, do:\\n>>>> $ pm2 update')\nconsole.log('[PM2] banner [1, 2')\n` +
        `const r = require('child_process').spawnSync(process.execPath, [${JSON.stringify(PM2_BIN)}, ...process.argv.slice(2)], { stdio: 'inherit' })\n` +
        `console.log('bye [')\nprocess.exit(r.status ?? 1)\n`,
      { mode: 0o755 }
    )
    const before = d.fingerprint((n) => n === 'stock-alert-api')
    const run = await runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api', 'pm2-path': wrapper }, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.stdout).toMatch(/pm2ReadPath: cli/)
    expect(d.fingerprint((n) => n === 'stock-alert-api')).toEqual(before)
  })
})

describe('own names from the ecosystem file, read while the lock is taken', () => {
  test('a bad app name in the file is refused before waiting on another deploy, not after the lock timeout', async () => {
    const { acquireHostLock } = await import('../src/shell/lock.js')
    const d = newDaemon('eco-lock')
    d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs` })
    await d.waitOnline()
    const eco = path.join(d.dir, 'ecosystem.config.cjs')
    fs.writeFileSync(eco, `module.exports = { apps: [{ name: 'stock-alert-api', script: ${JSON.stringify(`${APPS}/idle.cjs`)} }] }\n`)
    const other = await acquireHostLock({
      pm2Home: d.home,
      holder: { repository: 'acme/other', workflow: 'w', runId: '9', runUrl: null, job: 'j', app: 'other', suffix: '', host: '' },
      timeoutSeconds: 0,
      log: { info: () => undefined, warning: () => undefined }
    })
    try {
      const before = d.fingerprint()
      const run = await runAction({ inputs: { app: 'flyer-crawler', ecosystem: eco, 'lock-timeout-seconds': '120' }, pm2Home: d.home, baseDir: d.dir })
      expectAbortedCleanly(run, /own name "stock-alert-api" does not start with the app name "flyer-crawler"/)
      expect(run.stdout).not.toMatch(/Gave up|gave up/)
      expect(d.fingerprint()).toEqual(before)
    } finally {
      other.release()
    }
  })
})

describe('without an ecosystem file', () => {
  test('a stopped own process is restarted with its recorded config and ends online; neighbours untouched', async () => {
    const d = newDaemon('stopped-own')
    d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs` })
    d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs`, env: { RECORDED: 'yes' } })
    await d.waitOnline()
    d.pm2(['-s', 'stop', 'flyer-crawler-api-test'])
    const before = d.fingerprint((n) => n === 'stock-alert-api')
    const run = await runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api' }, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.stdout).toMatch(/pm2 restart flyer-crawler-api-test --update-env/)
    const app = d.jlistRaw().find((p) => p.name === 'flyer-crawler-api-test')!
    expect(app.pm2_env.status).toBe('online')
    expect(app.pm2_env.env?.RECORDED).toBe('yes')
    expect(d.fingerprint((n) => n === 'stock-alert-api')).toEqual(before)
  })
})

describe('a neighbour restarted by someone else during the deploy', () => {
  test('fails with SAFETY ABORT by default; with foreign-restarts: warn it deploys and warns', async () => {
    const d = newDaemon('foreign-restart')
    d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs` })
    d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs` })
    await d.waitOnline()
    const during = async (inputs: Record<string, string>) => {
      const pending = runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api', 'stable-seconds': '5', ...inputs }, pm2Home: d.home, baseDir: d.dir })
      const deadline = Date.now() + 30_000
      while (!readAllFiles(d.dir).some((f) => f.file.endsWith('-before.json') && !seen.has(f.file))) {
        if (Date.now() > deadline) throw new Error('the action never snapshotted')
        await new Promise((r) => setTimeout(r, 100))
      }
      for (const f of readAllFiles(d.dir)) if (f.file.endsWith('-before.json')) seen.add(f.file)
      await new Promise((r) => setTimeout(r, 1500))
      d.pm2(['-s', 'restart', 'stock-alert-api'])
      return pending
    }
    const seen = new Set<string>()
    const strict = await during({})
    expect(strict.outputs.result, strict.stdout).toBe('failed')
    expect(strict.stdout).toMatch(/SAFETY ABORT: .*stock-alert-api: pm_id 0 restarted/)
    const lenient = await during({ 'foreign-restarts': 'warn' })
    expect(lenient.outputs.result, lenient.stdout).toBe('deployed')
    expect(lenient.outputs.violations).toBe('0')
    expect(lenient.stdout).toMatch(/::warning::stock-alert-api: pm_id 0 restarted/)
  })
})

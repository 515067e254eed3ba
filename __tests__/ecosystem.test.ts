// Ecosystem deploys against a real PM2 daemon on a private PM2_HOME, run from the bundle
// as a runner runs it: each strategy proves itself (processes stable, health URL 2xx),
// and every way a deploy can be refused or fail leaves the other apps as they were.
import fs from 'node:fs'
import type { DeployReport } from '../src/core/report-schema.js'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { APPS, daemonsForThisFile, TestDaemon } from './helpers/daemon.js'
import { freePort } from './helpers/load.js'
import { expectAborted, runAction, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()


type AppDecl = Record<string, unknown> & { name: string }

/** A CommonJS ecosystem file, the form PM2 documents. */
function writeEcosystem(file: string, apps: AppDecl[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, `// test ecosystem\nmodule.exports = ${JSON.stringify({ apps }, null, 2)}\n`)
  return file
}

function copyApp(name: string, toDir: string): string {
  fs.mkdirSync(toDir, { recursive: true })
  const to = path.join(toDir, name)
  fs.copyFileSync(path.join(APPS, name), to)
  return to
}

function neighbours(d: TestDaemon): void {
  d.start({ name: 'stock-alert-api', script: `${APPS}/http-server.cjs`, instances: 2, env: { PORT: '0' } })
  d.start({ name: 'stock-alert-worker', script: `${APPS}/idle.cjs` })
  d.start({ name: 'stock-alert-test', script: `${APPS}/idle.cjs` })
}
const NEIGHBOURS = new Set(['stock-alert-api', 'stock-alert-worker', 'stock-alert-test'])
const isNeighbour = (n: string) => NEIGHBOURS.has(n)

function deploy(d: TestDaemon, workDir: string, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    inputs: {
      app: 'web',
      'environment-suffix': '-test',
      'working-directory': workDir,
      ecosystem: 'ecosystem.config.js',
      'stable-seconds': '1',
      'timeout-seconds': '60',
      ...inputs
    },
    pm2Home: d.home,
    baseDir: d.dir
  })
}

function report(run: ActionRun): DeployReport {
  return JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))
}


const processOf = (d: TestDaemon, name: string) => d.jlistRaw().filter((p) => p.name === name)
const dumpFile = (d: TestDaemon) => path.join(d.home, 'dump.pm2')

async function body(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url)
  return { status: res.status, text: await res.text() }
}

describe('ecosystem deploys on a host with neighbours', () => {
  let d: TestDaemon
  const created: string[] = []
  beforeAll(async () => {
    d = newDaemon('eco')
    neighbours(d)
    await d.waitOnline()
  })
  afterEach(() => {
    // Own apps of a test must not look like changed neighbours to the next one.
    for (const name of created.splice(0)) {
      try {
        d.pm2(['-s', 'delete', name])
      } catch {
        // already gone
      }
    }
  })

  test.each(['reload', 'restart', 'recreate'] as const)(
    'strategy %s deploys a cluster HTTP app from the ecosystem file and its health URL answers',
    async (strategy) => {
      const name = `web-${strategy}-test`
      created.push(name)
      const port = await freePort()
      const work = path.join(d.dir, `work-${strategy}`)
      copyApp('http-server.cjs', work)
      writeEcosystem(path.join(work, 'ecosystem.config.js'), [
        {
          name,
          script: 'http-server.cjs',
          exec_mode: 'cluster',
          instances: 2,
          env: { PORT: String(port), RELEASE: 'plain' },
          env_production: { RELEASE: `prod-${strategy}` }
        },
        // Another app of the file, not on the whitelist: never started.
        { name: 'not-mine', script: 'http-server.cjs' }
      ])
      const health = `http://127.0.0.1:${port}/health`
      const before = d.fingerprint(isNeighbour)

      // First deploy starts the app, the second acts on the running processes.
      for (const round of [1, 2]) {
        const pidsBefore = processOf(d, name).map((p) => p.pid)
        const run = await deploy(d, work, { strategy, whitelist: `web-${strategy}`, 'ecosystem-env': 'production', 'health-url': health })
        expect(run.outputs.result, run.stdout).toBe('deployed')
        expect(run.code).toBe(0)
        expect(JSON.parse(run.outputs['own-processes']!)).toEqual([name])
        expect(run.stdout).toMatch(/all own processes online and stable for \d+\.\d s, health URLs 2xx/)

        const mine = processOf(d, name)
        expect(mine.map((p) => p.pm2_env.status)).toEqual(['online', 'online'])
        for (const p of mine) expect(pidsBefore).not.toContain(p.pid)
        const commands = report(run).commands.map((c) => c.command)
        const eco = path.join(work, 'ecosystem.config.js')
        const verb = strategy === 'reload' ? 'startOrReload' : strategy === 'restart' ? 'startOrRestart' : 'start'
        const expected = [`pm2 ${verb} ${eco} --only ${name} --env production --update-env`, 'pm2 save']
        if (strategy === 'recreate' && round === 2) expected.unshift(`pm2 delete ${name}`)
        expect(commands).toEqual(expected)
        expect(await body(health)).toMatchObject({ status: 200, text: expect.stringContaining(`prod-${strategy}`) })
      }
      expect(processOf(d, 'not-mine')).toEqual([])
      expect(d.fingerprint(isNeighbour)).toEqual(before)
      expect(fs.existsSync(dumpFile(d))).toBe(true)
    }
  )

  test('a python app comes up with its interpreter; the same app left to node is refused in preflight', async () => {
    const name = 'web-py-test'
    created.push(name)
    const work = path.join(d.dir, 'work-py')
    copyApp('worker.py', work)
    const eco = path.join(work, 'apps.json')
    fs.writeFileSync(eco, JSON.stringify({ apps: [{ name, script: 'worker.py', interpreter: 'python3' }] }, null, 2))
    const run = await deploy(d, work, { ecosystem: 'apps.json' })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    const [p] = processOf(d, name)
    expect(p!.pm2_env.status).toBe('online')
    expect(p!.pm2_env.exec_interpreter).toBe('python3')
    expect(fs.readFileSync(String(p!.pm2_env.pm_out_log_path), 'utf8')).toMatch(/python worker \d+ up/)

    const before = d.fingerprint()
    fs.writeFileSync(eco, JSON.stringify({ apps: [{ name, script: 'worker.py', interpreter: 'node' }] }, null, 2))
    const refused = await deploy(d, work, { ecosystem: 'apps.json' })
    expectAborted(refused, /Preflight failed, nothing was changed:\n\s*- web-py-test script .*worker\.py is a python script, but `interpreter: 'node'`/)
    expect(refused.stdout).toMatch(/interpreter: 'none'.*virtualenv's python/)
    expect(d.fingerprint()).toEqual(before)
  })

  test('after a release switch, restart of a fork app runs the new release (recreated, with downtime said), never the old one', async () => {
    const name = 'web-rel-test'
    created.push(name)
    const releases = path.join(d.dir, 'releases')
    for (const r of ['r1', 'r2']) {
      copyApp('idle.cjs', path.join(releases, r))
      writeEcosystem(path.join(releases, r, 'ecosystem.config.js'), [{ name, script: 'idle.cjs' }])
    }
    const current = path.join(d.dir, 'current')
    fs.symlinkSync(path.join(releases, 'r1'), current)
    const cwdOf = () => {
      const [p] = processOf(d, name)
      return { cwd: p!.pm2_env.pm_cwd, script: p!.pm2_env.pm_exec_path, real: fs.readlinkSync(`/proc/${p!.pid}/cwd`) }
    }

    const first = await deploy(d, current, { strategy: 'reload' })
    expect(first.outputs.result, first.stdout).toBe('deployed')
    expect(cwdOf().real).toBe(path.join(releases, 'r1'))

    // Release switch: `current` → r2.
    fs.unlinkSync(current)
    fs.symlinkSync(path.join(releases, 'r2'), current)
    const restarted = await deploy(d, current, { strategy: 'restart' })
    expect(restarted.outputs.result, restarted.stdout).toBe('deployed')
    expect(cwdOf()).toEqual({ cwd: path.join(releases, 'r2'), script: path.join(releases, 'r2', 'idle.cjs'), real: path.join(releases, 'r2') })
    expect(report(restarted).commands.map((c) => c.command)).toContain(`pm2 delete ${name}`)
    expect(report(restarted).warnings.join('\n')).toMatch(new RegExp(`${name} runs in fork mode .* moment of downtime`))
    expect(report(restarted).checks).toContainEqual(expect.objectContaining({ name: 'runs what the file says', ok: true }))

    // Back to r1 with recreate: delete then start, always.
    fs.unlinkSync(current)
    fs.symlinkSync(path.join(releases, 'r1'), current)
    const recreated = await deploy(d, current, { strategy: 'recreate' })
    expect(recreated.outputs.result, recreated.stdout).toBe('deployed')
    expect(cwdOf()).toEqual({ cwd: path.join(releases, 'r1'), script: path.join(releases, 'r1', 'idle.cjs'), real: path.join(releases, 'r1') })
  })

  test('a missing script fails preflight while the old process keeps running with its old pid', async () => {
    const name = 'web-gone-test'
    created.push(name)
    const work = path.join(d.dir, 'work-gone')
    copyApp('idle.cjs', work)
    const eco = path.join(work, 'pm2.yml')
    fs.writeFileSync(eco, `apps:\n  - name: ${name}\n    script: idle.cjs\n`)
    const first = await deploy(d, work, { ecosystem: 'pm2.yml' })
    expect(first.outputs.result, first.stdout).toBe('deployed')
    const before = d.fingerprint()

    fs.writeFileSync(eco, `apps:\n  - name: ${name}\n    script: dist/server.cjs\n`)
    for (const strategy of ['reload', 'recreate']) {
      const run = await deploy(d, work, { ecosystem: 'pm2.yml', strategy })
      expectAborted(run, new RegExp(`- ${name} script ${path.join(work, 'dist', 'server.cjs')} does not exist \\(missing build artifacts`))
      expect(d.fingerprint()).toEqual(before)
    }
  })

  test('an own name the ecosystem file does not declare is an error before any change', async () => {
    const work = path.join(d.dir, 'work-undeclared')
    copyApp('idle.cjs', work)
    writeEcosystem(path.join(work, 'ecosystem.config.js'), [{ name: 'web-api-test', script: 'idle.cjs' }])
    const before = d.fingerprint()
    const run = await deploy(d, work, { whitelist: 'web-api\nweb-worker' })
    expectAborted(run, /- web-worker-test is not declared in the ecosystem file \(it declares web-api-test\)/)
    expect(d.fingerprint()).toEqual(before)
  })

  test('an ecosystem file with a syntax error aborts with the file and line; nothing changes', async () => {
    const work = path.join(d.dir, 'work-syntax')
    copyApp('idle.cjs', work)
    const eco = path.join(work, 'ecosystem.config.js')
    fs.writeFileSync(eco, "module.exports = {\n  apps: [\n    { name: 'web-syn-test', script: 'idle.cjs' }\n    { name: 'web-syn2-test', script: 'idle.cjs' }\n  ]\n}\n")
    const before = d.fingerprint()
    const run = await deploy(d, work, {})
    expectAborted(run, new RegExp(`invalid ecosystem file ${eco.replace(/[.]/g, '\\.')} line 4: SyntaxError: Unexpected token '\\{'\\. Fix the syntax at that line`))
    expect(d.fingerprint()).toEqual(before)
  })

  test('invalid JSON and YAML abort with the line too', async () => {
    const work = path.join(d.dir, 'work-data')
    fs.mkdirSync(work, { recursive: true })
    fs.writeFileSync(path.join(work, 'apps.json'), '{\n  "apps": [\n    { "name": "web-j-test" "script": "x.js" }\n  ]\n}\n')
    fs.writeFileSync(path.join(work, 'apps.yml'), 'apps:\n  - name: web-y-test\n    script: "x.js\n')
    const before = d.fingerprint()
    expectAborted(await deploy(d, work, { ecosystem: 'apps.json' }), /invalid ecosystem file .*apps\.json line 3, column \d+: JSON .*Fix the JSON at that line/)
    expectAborted(await deploy(d, work, { ecosystem: 'apps.yml' }), /invalid ecosystem file .*apps\.yml line \d+, column \d+: YAML .*Fix the YAML at that line/)
    expect(d.fingerprint()).toEqual(before)
  })

  test.each([
    ['ecosystem.js', /PM2 reads a JavaScript file as an ecosystem file only when its name contains ".config.js" or ".config.cjs".*Rename it to ecosystem\.config\.js/],
    ['apps.cjs', /Rename it to apps\.config\.cjs/],
    ['ecosystem.config.mjs', /is an ES module, which PM2 cannot use/]
  ])('an ecosystem file PM2 would not read as one (%s) is refused with the fix', async (file, message) => {
    const work = path.join(d.dir, `work-name-${file}`)
    copyApp('idle.cjs', work)
    const text = `{ apps: [{ name: 'web-name-test', script: 'idle.cjs' }] }`
    fs.writeFileSync(path.join(work, file), file.endsWith('.mjs') ? `export default ${text}\n` : `module.exports = ${text}\n`)
    const before = d.fingerprint()
    for (const strategy of ['reload', 'recreate']) {
      expectAborted(await deploy(d, work, { ecosystem: file, strategy }), message)
    }
    // `pm2 start ecosystem.js` would have started the file itself as an app.
    expect(d.fingerprint()).toEqual(before)
  })
})

describe('a crash-looping app', () => {
  let d: TestDaemon
  beforeAll(async () => {
    d = newDaemon('crash')
    neighbours(d)
    await d.waitOnline()
    d.pm2(['-s', 'save'])
  })

  test('fails the job at its first restart, shows its logs, leaves the neighbours alone and saves nothing', async () => {
    const name = 'web-crashy-test'
    const work = path.join(d.dir, 'work')
    copyApp('crash-loop.cjs', work)
    // Dies 2 s after each start: PM2 says online at every look (past min_uptime).
    writeEcosystem(path.join(work, 'ecosystem.config.js'), [{ name, script: 'crash-loop.cjs', env: { CRASH_AFTER_MS: '2000' } }])
    const before = d.fingerprint()
    const dumpBefore = fs.readFileSync(dumpFile(d))

    // A stable window longer than the app lives, and a timeout it must not wait for.
    const run = await deploy(d, work, { 'stable-seconds': '8', 'timeout-seconds': '110', 'log-lines': '20' })
    expect(run.outputs.result, run.stdout).toBe('failed')
    expect(run.code).toBe(1)
    expect(run.outputs.violations).toBe('0')
    expect(run.stdout).toMatch(/Own processes are not healthy: crash loop: web-crashy-test \(pm_id \d+\) restarted/)
    expect(run.stdout).not.toMatch(/not healthy within timeout-seconds/)

    const group = run.stdout.slice(run.stdout.indexOf(`::group::Last 20 log lines of ${name}`))
    expect(group.length).toBeLessThan(run.stdout.length)
    const inGroup = group.slice(0, group.indexOf('::endgroup::'))
    expect(inGroup).toMatch(/--- out: .*web-crashy-test-out\.log\ncrash-loop \d+ starting; dying in 2000 ms/)
    expect(inGroup).toMatch(/--- error: .*web-crashy-test-error\.log\n(.*\n)*fatal: cannot connect to the database \(simulated\)/)

    // Only the own app changed; no `pm2 save` after a failed deploy.
    const after = d.fingerprint()
    delete after[name]
    expect(after).toEqual(before)
    expect(report(run).commands.map((c) => c.command)).toEqual([`pm2 startOrReload ${path.join(work, 'ecosystem.config.js')} --only ${name} --update-env`])
    expect(fs.readFileSync(dumpFile(d)).equals(dumpBefore)).toBe(true)
    d.pm2(['-s', 'delete', name])
  })
})

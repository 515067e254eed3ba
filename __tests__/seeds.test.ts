// Every system of the original user documents deploys as written, on a real PM2 daemon
// shared with another app, run from the bundle as a runner runs it: 003's orchestrator and
// five agents (no common prefix), 000's python app in a virtualenv behind a `current`
// symlink, 004's npm-started services with their own log files. Each refusal leaves every
// process as it was.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { APPS, daemonsForThisFile, TestDaemon } from './helpers/daemon.js'
import { freePort } from './helpers/load.js'
import { expectAborted, runAction, type ActionRun } from './helpers/run-action.js'
import {
  buildAgenticSdlc,
  buildAutoAuthorRelease,
  buildService,
  SDLC_AGENTS,
  SDLC_NAMES,
  switchCurrent,
  venvUnavailable,
  writeBackendEcosystem,
  type Service
} from './helpers/seeds.js'

const newDaemon = daemonsForThisFile()


const NEIGHBOUR = 'flyer-crawler-api'
let d: TestDaemon

beforeAll(async () => {
  d = newDaemon('seeds')
  // Another app on the same host: every deploy below must leave it alone.
  d.start({ name: NEIGHBOUR, script: `${APPS}/idle.cjs` })
  await d.waitOnline()
})

function deploy(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({ inputs: { 'stable-seconds': '2', 'timeout-seconds': '60', ...inputs }, pm2Home: d.home, baseDir: d.dir })
}


const proc = (name: string) => d.jlistRaw().filter((p) => p.name === name)
const env = (name: string) => proc(name)[0]!.pm2_env as Record<string, unknown>

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

describe('003: orchestrator and five agents from pm2/ecosystem.dev.config.js (no common prefix)', () => {
  let root: string
  let port: number
  const inputs = () => ({ app: 'agentic-sdlc', 'working-directory': root, ecosystem: 'pm2/ecosystem.dev.config.js' })

  beforeAll(async () => {
    root = path.join(d.dir, 'agentic-sdlc')
    port = await freePort()
    buildAgenticSdlc(root, port)
  })

  test('without require-app-prefix: false it is refused, and the message names that input as the fix', async () => {
    const run = await deploy(inputs())
    expectAborted(run, /own name "orchestrator" does not start with the app name "agentic-sdlc".*set `require-app-prefix: false`.*or rename the process/)
    expect(SDLC_NAMES.flatMap(proc)).toEqual([])
  })

  test('with require-app-prefix: false the six processes deploy with the file\'s limits, cwd and log files', async () => {
    const before = d.fingerprint()
    const run = await deploy({ ...inputs(), 'require-app-prefix': 'false', 'health-url': `http://127.0.0.1:${port}/health` })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(JSON.parse(run.outputs['own-processes']!)).toEqual(SDLC_NAMES)
    expect(d.fingerprint((n) => n === NEIGHBOUR)).toEqual({ [NEIGHBOUR]: before[NEIGHBOUR] })

    for (const name of SDLC_NAMES) {
      const [p, more] = proc(name)
      expect(more).toBeUndefined()
      expect(p!.pm2_env.status).toBe('online')
      const e = p!.pm2_env as Record<string, unknown>
      // cwd from __dirname: the repository root, whatever directory pm2 ran in.
      expect(e.pm_cwd).toBe(root)
      expect(e.max_memory_restart).toBe(name === 'orchestrator' ? 1024 ** 3 : 512 * 1024 ** 2)
      expect([e.min_uptime, e.restart_delay, e.max_restarts, e.autorestart]).toEqual([10_000, 4000, 10, true]) // PM2 stores '10s' as ms
    }
    expect(env('orchestrator').pm_exec_path).toBe(path.join(root, 'packages/orchestrator/dist/server.js'))
    for (const [name, dir] of SDLC_AGENTS) {
      expect(env(name).pm_exec_path).toBe(path.join(root, `packages/agents/${dir}/dist/run-agent.js`))
      expect(env(name).pm_err_log_path).toBe(path.join(root, `scripts/logs/${dir}-error.log`))
      expect(fs.readFileSync(path.join(root, `scripts/logs/${dir}-out.log`), 'utf8')).toMatch(new RegExp(`${dir} ready`))
    }
    expect(env('orchestrator').pm_out_log_path).toBe(path.join(root, 'scripts/logs/orchestrator-out.log'))
    expect(await getJson(`http://127.0.0.1:${port}/health`)).toMatchObject({ service: 'orchestrator', status: 'ok' })
  })

  test('"Missing build artifacts": a package without dist/ is refused before anything changes, every pid unchanged', async () => {
    const before = d.fingerprint()
    const dist = path.join(root, 'packages/agents/e2e-agent/dist')
    fs.renameSync(dist, `${dist}.moved`)
    try {
      const run = await deploy({ ...inputs(), 'require-app-prefix': 'false' })
      expectAborted(run, /Preflight failed, nothing was changed/)
      expect(run.stdout).toContain(`agent-e2e script ${path.join(dist, 'run-agent.js')} does not exist (missing build artifacts or release? run the build first)`)
      expect(d.fingerprint()).toEqual(before)
    } finally {
      fs.renameSync(`${dist}.moved`, dist)
    }
  })

  test('after the build, a redeploy reloads all six again', async () => {
    const run = await deploy({ ...inputs(), 'require-app-prefix': 'false' })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    for (const name of SDLC_NAMES) for (const p of proc(name)) d.pm2(['-s', 'delete', String(p.pm_id)])
  })
})

const noVenv = venvUnavailable()

describe('000: python backend in a virtualenv behind a `current` symlink', () => {
  let base: string
  let port: number
  const url = () => `http://127.0.0.1:${port}/`
  const inputs = () => ({ app: 'auto-author', 'working-directory': path.join(base, 'current'), ecosystem: 'ecosystem.config.js', 'health-url': url() })

  beforeAll(async () => {
    if (noVenv) return
    base = path.join(d.dir, 'opt', 'auto-author')
    port = await freePort()
    buildAutoAuthorRelease(base, 'r1', port)
    switchCurrent(base, 'r1')
  })

  test.skipIf(noVenv)(
    `.venv/bin/python with -m args and interpreter: 'none' deploys and answers${noVenv ? ` (skipped: ${noVenv})` : ''}`,
    async () => {
      const run = await deploy(inputs())
      expect(run.outputs.result, run.stdout).toBe('deployed')
      const e = env('auto-author-backend')
      expect(e.exec_interpreter).toBe('none')
      expect(e.pm_cwd).toBe(path.join(base, 'current/backend'))
      expect(e.pm_exec_path).toBe(path.join(base, 'current/backend/.venv/bin/python'))
      expect(e.args).toEqual(['-m', 'app_server', 'app.main:app', '--host', '127.0.0.1', '--port', String(port)])
      const body = await getJson(url())
      expect(body).toMatchObject({ message: 'Welcome to the Auto Author API!', release: 'r1', app: 'app.main:app' })
      expect(String(body.prefix)).toMatch(/backend\/\.venv$/)
    }
  )

  test.skipIf(noVenv)(
    `a new release behind current, with strategy recreate (the document's delete-then-start), runs from the new release${noVenv ? ` (skipped: ${noVenv})` : ''}`,
    async () => {
      buildAutoAuthorRelease(base, 'r2', port)
      switchCurrent(base, 'r2')
      const neighbour = d.fingerprint((n) => n === NEIGHBOUR)
      const run = await deploy({ ...inputs(), strategy: 'recreate' })
      expect(run.outputs.result, run.stdout).toBe('deployed')
      expect(await getJson(url())).toMatchObject({ release: 'r2' })
      const [p] = proc('auto-author-backend')
      expect(fs.readlinkSync(`/proc/${p!.pid}/cwd`)).toBe(path.join(base, 'releases/r2/backend'))
      expect(d.fingerprint((n) => n === NEIGHBOUR)).toEqual(neighbour)
    }
  )

  test.skipIf(noVenv)(
    `the document's old way (the venv's bin/uvicorn left to node) is refused with the fix, nothing changed${noVenv ? ` (skipped: ${noVenv})` : ''}`,
    async () => {
      const backend = path.join(base, 'current/backend')
      fs.writeFileSync(path.join(backend, '.venv/bin/uvicorn'), `#!${path.join(backend, '.venv/bin/python')}\nimport sys\n`, { mode: 0o755 })
      fs.writeFileSync(
        path.join(base, 'current/ecosystem.old.config.js'),
        `module.exports = { apps: [{ name: 'auto-author-backend', script: '.venv/bin/uvicorn', args: 'app.main:app --host 127.0.0.1 --port ${port}', cwd: '${backend}' }] }\n`
      )
      const before = d.fingerprint()
      const run = await deploy({ ...inputs(), ecosystem: 'ecosystem.old.config.js' })
      expectAborted(run, /auto-author-backend script .*\.venv\/bin\/uvicorn is a python script, but PM2 would run it with node.*interpreter: 'none'/)
      expect(d.fingerprint()).toEqual(before)
      d.pm2(['-s', 'delete', 'auto-author-backend'])
    }
  )
})

describe('004: npm-started services with their own log files (no common prefix)', () => {
  let project: string
  let services: Service[]
  const inputs = () => ({ app: 'backend', 'require-app-prefix': 'false', 'working-directory': project, ecosystem: 'ecosystem.config.js' })

  beforeAll(async () => {
    project = path.join(d.dir, 'project')
    services = [
      { name: 'form-service', dir: 'form', port: await freePort() },
      { name: 'email-service', dir: 'email', port: await freePort() }
    ]
    for (const s of services) buildService(project, s)
    writeBackendEcosystem(project, services)
  })

  test('`script: npm, args: start` from each service cwd deploys; PM2 writes the log files the file names', async () => {
    const neighbour = d.fingerprint((n) => n === NEIGHBOUR)
    const run = await deploy({ ...inputs(), 'health-url': services.map((s) => `http://127.0.0.1:${s.port}/`).join('\n') })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(JSON.parse(run.outputs['own-processes']!)).toEqual(['form-service', 'email-service'])
    for (const s of services) {
      const e = env(s.name)
      const cwd = path.join(project, 'backend', s.dir)
      expect(e.pm_cwd).toBe(cwd)
      expect(path.basename(fs.realpathSync(String(e.pm_exec_path)))).toBe('npm-cli.js')
      expect(e.args).toEqual(['start'])
      // PM2 resolves error_file/out_file from the app's cwd, so './backend/form/logs/…' lands
      // in backend/form/backend/form/logs/: that file, PM2's pm_err_log_path, is what is read.
      expect(e.pm_err_log_path).toBe(path.resolve(cwd, `./backend/${s.dir}/logs/error.log`))
      expect(fs.readFileSync(String(e.pm_out_log_path), 'utf8')).toContain(`${s.name} listening on ${s.port}`)
      expect(await getJson(`http://127.0.0.1:${s.port}/`)).toMatchObject({ service: s.name, env: 'development' })
    }
    expect(d.fingerprint((n) => n === NEIGHBOUR)).toEqual(neighbour)
  })

  test('a crashing service fails the deploy, and its lines from its own error_file are in the job log', async () => {
    const auth: Service = {
      name: 'auth-service',
      dir: 'auth',
      port: await freePort(),
      crash: ['auth-service: Error: JWT_SECRET is not set', '    at loadConfig (backend/auth/config.js:12:11)']
    }
    buildService(project, auth)
    writeBackendEcosystem(project, [...services, auth])
    const neighbour = d.fingerprint((n) => n === NEIGHBOUR)
    try {
      const run = await deploy({ ...inputs(), 'stable-seconds': '5', 'log-lines': '30' })
      expect(run.outputs.result, run.stdout).toBe('failed')
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(/Own processes are not healthy: .*auth-service/)
      const errLog = String(env('auth-service').pm_err_log_path)
      expect(errLog).toBe(path.join(project, 'backend/auth/backend/auth/logs/error.log'))
      const start = run.stdout.indexOf('::group::Last 30 log lines of auth-service')
      expect(start, run.stdout).toBeGreaterThanOrEqual(0)
      const group = run.stdout.slice(start, run.stdout.indexOf('::endgroup::', start))
      expect(group).toContain(`--- error: ${errLog}\n`)
      const errPart = group.slice(group.indexOf(`--- error: ${errLog}`))
      expect(errPart).toContain('auth-service: Error: JWT_SECRET is not set')
      expect(errPart).toContain('at loadConfig (backend/auth/config.js:12:11)')
      expect(fs.readFileSync(errLog, 'utf8')).toContain('JWT_SECRET is not set')
      expect(d.fingerprint((n) => n === NEIGHBOUR)).toEqual(neighbour)
    } finally {
      for (const p of proc('auth-service')) d.pm2(['-s', 'delete', String(p.pm_id)])
      writeBackendEcosystem(project, services)
    }
  })

  test('append_env_to_name with an ecosystem-env is refused in preflight with the fix, nothing changed', async () => {
    writeBackendEcosystem(project, services, 'ecosystem.envname.config.js', { append_env_to_name: true })
    const before = d.fingerprint()
    const run = await deploy({ ...inputs(), ecosystem: 'ecosystem.envname.config.js', 'ecosystem-env': 'production' })
    expectAborted(run, /form-service sets `append_env_to_name`, so with `ecosystem-env: production` PM2 would start it as "form-service-production"/)
    expect(run.stdout).toMatch(/remove `append_env_to_name`/)
    expect(d.fingerprint()).toEqual(before)
  })

  test('name_prefix is refused in preflight with the fix, nothing changed', async () => {
    writeBackendEcosystem(project, services, 'ecosystem.prefix.config.js', { name_prefix: 'acme' })
    const before = d.fingerprint()
    const run = await deploy({ ...inputs(), ecosystem: 'ecosystem.prefix.config.js' })
    expectAborted(run, /form-service sets `name_prefix: 'acme'`.*"acme:form-service".*remove `name_prefix`/)
    expect(d.fingerprint()).toEqual(before)
  })
})

// The orchestration in-process, over a fake PM2 (helpers/fake-pm2.ts): each phase's
// decisions without a daemon. Inputs, outputs and the lock are real (temp files); the
// end-to-end tests run the same code bundled against a real daemon.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { run } from '../../src/main.js'
import type { DeployPorts } from '../../src/deploy/ports.js'
import { FakePm2, processRecord } from '../helpers/fake-pm2.js'
import { parseCommandFile } from '../helpers/run-action.js'

let dir: string
// core.summary keeps the first GITHUB_STEP_SUMMARY it sees: one file for the whole run of this test file.
let summaryDir: string
let stdout: string[]

function ports(fake: FakePm2): DeployPorts {
  return { openPm2: async () => fake, readEcosystem: async () => [] }
}

function setInputs(inputs: Record<string, string>): void {
  const all: Record<string, string> = { 'pm2-home': path.join(dir, 'pm2'), 'snapshot-dir': path.join(dir, 'runs'), 'stable-seconds': '0', 'timeout-seconds': '5', ...inputs }
  for (const [k, v] of Object.entries(all)) vi.stubEnv(`INPUT_${k.toUpperCase()}`, v)
}

const outputs = () => parseCommandFile(fs.readFileSync(path.join(dir, 'output'), 'utf8'))

const crowdedHost = () => [
  processRecord({ pmId: 0, name: 'shop-api-test' }),
  processRecord({ pmId: 1, name: 'shop-worker-test' }),
  processRecord({ pmId: 2, name: 'shop-api' }),
  processRecord({ pmId: 3, name: 'stock-alert-test' })
]

beforeAll(() => {
  summaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestration-summary-'))
})

afterAll(() => fs.rmSync(summaryDir, { recursive: true, force: true }))

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orchestration-'))
  fs.mkdirSync(path.join(dir, 'pm2'))
  for (const f of ['output', 'state']) fs.writeFileSync(path.join(dir, f), '')
  fs.writeFileSync(path.join(summaryDir, 'summary'), '')
  vi.stubEnv('GITHUB_OUTPUT', path.join(dir, 'output'))
  vi.stubEnv('GITHUB_STATE', path.join(dir, 'state'))
  vi.stubEnv('GITHUB_STEP_SUMMARY', path.join(summaryDir, 'summary'))
  stdout = []
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true))
})

afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  process.exitCode = 0
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('the deploy over a fake PM2', () => {
  test('reloads own processes only, by name, and ends deployed with the lock released', async () => {
    const fake = new FakePm2(crowdedHost())
    setInputs({ app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api, shop-worker', save: 'false' })
    expect(await run(ports(fake))).toBe('deployed')
    expect(fake.sent.map((c) => c.command)).toEqual(['pm2 reload shop-api-test --update-env', 'pm2 reload shop-worker-test --update-env'])
    expect(outputs()).toMatchObject({ result: 'deployed', violations: '0', 'own-processes': '["shop-api-test","shop-worker-test"]' })
    expect(fs.existsSync(path.join(dir, 'pm2', 'pm2-safe-deploy.lock'))).toBe(false)
    expect(fake.closed).toBe(true)
    expect(process.exitCode ?? 0).toBe(0)
  })

  test('a neighbour restarted during the deploy is a SAFETY ABORT, and nothing is saved', async () => {
    const fake = new FakePm2(crowdedHost())
    fake.afterSend = (_cmd, f) => f.respawn(f.processes.find((p) => p.name === 'stock-alert-test')!)
    setInputs({ app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api' })
    expect(await run(ports(fake))).toBe('failed')
    expect(fake.sent.map((c) => c.args[0])).not.toContain('save')
    expect(outputs()).toMatchObject({ result: 'failed', violations: '1' })
    expect(stdout.join('')).toMatch(/::error title=pm2-safe-deploy%3A SAFETY ABORT::SAFETY ABORT: other apps changed/)
    expect(process.exitCode).toBe(1)
  })

  test('the daemon gone mid-deploy is named as such: no blame on own processes, no command that would start an empty daemon', async () => {
    const fake = new FakePm2(crowdedHost())
    fake.beforeList = (f) => {
      if (f.sent.length > 0) {
        f.gone = true
        f.respawn(f.processes.find((p) => p.name === 'shop-api-test')!)
      }
    }
    setInputs({ app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api', 'stable-seconds': '1' })
    expect(await run(ports(fake))).toBe('failed')
    const out = stdout.join('')
    expect(out).toMatch(/::error title=pm2-safe-deploy%3A PM2 daemon gone::The PM2 daemon at .* is gone/)
    expect(out).toContain('The PM2 daemon is gone, with every process it ran')
    expect(out).not.toMatch(/Own processes were changed and are not healthy|PM2_HOME=\S+ pm2 (start|restart|scale) /)
    const report = JSON.parse(fs.readFileSync(outputs().report!, 'utf8')) as { title: string; restore: { command: string | null }[] }
    expect(report.title).toBe('PM2 daemon gone')
    // No dump.pm2 here: no command at all rather than one that starts an empty daemon.
    expect(report.restore.map((h) => h.command)).toEqual([null])
  })

    test('a crash loop fails the deploy with the verdict, not PM2\'s exit code', async () => {
    const fake = new FakePm2(crowdedHost())
    fake.beforeList = (f) => {
      if (f.sent.length > 0) f.respawn(f.processes.find((p) => p.name === 'shop-api-test')!)
    }
    setInputs({ app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api', 'stable-seconds': '1' })
    expect(await run(ports(fake))).toBe('failed')
    expect(outputs().result).toBe('failed')
    expect(stdout.join('')).toMatch(/crash loop: shop-api-test/)
  })

  test('a whitelist entry that reaches a neighbour by namespace is refused before any command', async () => {
    const fake = new FakePm2([...crowdedHost(), processRecord({ pmId: 4, name: 'other', namespace: 'shop-cron-test' })])
    setInputs({ app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-cron' })
    expect(await run(ports(fake))).toBe('aborted')
    expect(fake.sent).toEqual([])
  })

  test('dry-run plans and gates every command and sends none', async () => {
    const fake = new FakePm2(crowdedHost())
    setInputs({ app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api', 'dry-run': 'true' })
    expect(await run(ports(fake))).toBe('dry-run')
    expect(fake.sent).toEqual([])
    const report = JSON.parse(fs.readFileSync(outputs().report!, 'utf8'))
    expect(report.plan).toEqual([{ command: 'pm2 reload shop-api-test --update-env', why: 'strategy reload' }])
  })

  test('invalid inputs are refused with the fix and no stack trace, and never open PM2', async () => {
    const openPm2 = vi.fn()
    setInputs({ app: 'shop', strategy: 'bounce' })
    expect(await run({ openPm2, readEcosystem: async () => [] })).toBe('aborted')
    expect(openPm2).not.toHaveBeenCalled()
    const log = stdout.join('')
    expect(log).toMatch(/strategy must be reload, restart or recreate/)
    expect(log).not.toMatch(/\n\s+at /)
  })

  test('a SAFETY ABORT after a release switch never rolls back: nothing more is sent, the link stays, the job says why', async () => {
    const releases = path.join(dir, 'releases')
    for (const r of ['r1', 'r2']) {
      fs.mkdirSync(path.join(releases, r), { recursive: true })
      fs.writeFileSync(path.join(releases, r, 'server.js'), '')
      fs.writeFileSync(path.join(releases, r, 'eco.config.js'), '')
    }
    const link = path.join(dir, 'current')
    fs.symlinkSync(path.join(releases, 'r1'), link)
    // shop-api-test errored (in r1: this deploy's, not another project's): the plan deletes it first, and a neighbour restarts right then.
    const r1 = path.join(releases, 'r1')
    const fake = new FakePm2(crowdedHost().map((p) => (p.name === 'shop-api-test' ? { ...p, status: 'errored', pid: 99_999_998, cwd: r1, script: path.join(r1, 'server.js') } : p)))
    fake.afterSend = (cmd, f) => {
      if (cmd.verb === 'delete') f.respawn(f.processes.find((p) => p.name === 'stock-alert-test')!)
    }
    const app = { name: 'shop-api-test', script: 'server.js', cwd: null, interpreter: null, execMode: null, instances: null, namespace: null, appendEnvToName: false, namePrefix: null }
    setInputs({ app: 'shop', 'environment-suffix': '-test', ecosystem: 'eco.config.js', 'current-link': link, 'release-dir': path.join(releases, 'r2') })
    const result = await run({ openPm2: async () => fake, readEcosystem: async () => [app] })
    expect(result).toBe('failed')
    expect(fake.sent.map((c) => c.args[0])).toEqual(['delete'])
    expect(fs.realpathSync(link)).toBe(fs.realpathSync(path.join(releases, 'r2')))
    const report = JSON.parse(fs.readFileSync(outputs().report!, 'utf8'))
    expect(report.release).toMatchObject({ switched: true, rolledBack: false })
    expect(report.warnings.join('\n')).toMatch(/no rollback: other apps changed \(SAFETY ABORT\)/)
  })

  test('another project\'s process with an own name, outside every directory of this deploy, is refused before any command; adopt takes it over', async () => {
    const project = path.join(dir, 'project')
    fs.mkdirSync(project)
    fs.writeFileSync(path.join(project, 'server.js'), '')
    fs.writeFileSync(path.join(project, 'eco.config.js'), '')
    // An `api` of another project, in its own directory (pid above pid_max: no /proc to read).
    const other = processRecord({ pmId: 0, name: 'shop-api', pid: 99_999_997, cwd: '/srv/other-project', script: '/srv/other-project/server.js' })
    const app = { name: 'shop-api', script: 'server.js', cwd: null, interpreter: null, execMode: null, instances: null, namespace: null, appendEnvToName: false, namePrefix: null }
    const inputs = { app: 'shop', ecosystem: 'eco.config.js', 'working-directory': project, save: 'false' }
    const refused = new FakePm2([other])
    setInputs(inputs)
    expect(await run({ openPm2: async () => refused, readEcosystem: async () => [app] })).toBe('aborted')
    expect(refused.sent).toEqual([])
    const report = JSON.parse(fs.readFileSync(outputs().report!, 'utf8'))
    expect(report.checks).toContainEqual(expect.objectContaining({ name: 'identity', ok: false }))
    expect(report.message).toMatch(/shop-api \(pm_id 0, pid 99999997\) runs from \/srv\/other-project.*adopt: true/s)
    const adopted = new FakePm2([{ ...other }])
    setInputs({ ...inputs, adopt: 'true', 'dry-run': 'true' })
    expect(await run({ openPm2: async () => adopted, readEcosystem: async () => [app] })).toBe('dry-run')
    const planned = JSON.parse(fs.readFileSync(outputs().report!, 'utf8'))
    expect(planned.checks).toContainEqual(expect.objectContaining({ name: 'identity', ok: true, detail: expect.stringMatching(/^adopt: true: taking over shop-api/) }))
    expect(planned.plan.length).toBeGreaterThan(0)
  })

  test('a reload PM2 swallowed (exit 0, no new process) after a release switch is a stale release: failed, never deployed', async () => {
    const releases = path.join(dir, 'releases')
    for (const r of ['r1', 'r2']) {
      fs.mkdirSync(path.join(releases, r), { recursive: true })
      fs.writeFileSync(path.join(releases, r, 'server.js'), '')
      fs.writeFileSync(path.join(releases, r, 'eco.config.js'), '')
    }
    const link = path.join(dir, 'current')
    fs.symlinkSync(path.join(releases, 'r1'), link)
    // The app's paths go through the link (the plan reloads it in place); its process started before the switch.
    const running = processRecord({ pmId: 0, name: 'shop-api-test', pid: 99_999_999, script: path.join(link, 'server.js'), cwd: link, startedAt: Date.now() - 60_000 })
    const fake = new FakePm2([running, ...crowdedHost().filter((p) => p.name !== 'shop-api-test')])
    const app = { name: 'shop-api-test', script: 'server.js', cwd: link, interpreter: null, execMode: null, instances: null, namespace: null, appendEnvToName: false, namePrefix: null }
    setInputs({ app: 'shop', 'environment-suffix': '-test', ecosystem: 'eco.config.js', 'current-link': link, 'release-dir': path.join(releases, 'r2'), rollback: 'false' })
    expect(await run({ openPm2: async () => fake, readEcosystem: async () => [app] })).toBe('failed')
    expect(fake.sent.map((c) => c.args[0])).toEqual(['startOrReload'])
    const report = JSON.parse(fs.readFileSync(outputs().report!, 'utf8'))
    expect(report.title).toBe('Stale release')
    expect(report.checks).toContainEqual(expect.objectContaining({ name: 'runs what the file says', ok: false }))
    expect(report.message).toMatch(/before the switch to .*releases\/r2/)
  })

  test('a fleet rollback run says so first in its own report and audit line on the host (promise 13)', async () => {
    const fake = new FakePm2(crowdedHost())
    const audit = path.join(dir, 'audit.jsonl')
    const reason = 'fleet rollback: host deploy@web-2 ended rolled-back (not healthy), so every host this run switched goes back to the release it ran before'
    setInputs({ app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api', save: 'false', 'audit-log': audit, 'fleet-rollback': reason })
    expect(await run(ports(fake))).toBe('deployed')
    const report = JSON.parse(fs.readFileSync(outputs().report!, 'utf8'))
    expect(report.message.split('\n')).toEqual([reason, expect.stringMatching(/deployed and stable/)])
    const lines = fs.readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines).toHaveLength(1)
    expect(lines[0].message).toBe(report.message)
  })
})

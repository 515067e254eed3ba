// The audit log: one JSON line per deploy attempt (deployed, dry run, aborted early,
// failed), appended whole even from concurrent processes, never an environment value,
// and off when `audit-log: off`.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest'
import { AuditRecordSchema, buildAuditRecord, DEFAULT_AUDIT_FILE_NAME, resolveAuditTarget, tryAppendAudit, type AuditInput } from '../src/shell/audit.js'
import { parseInputs } from '../src/shell/inputs.js'
import type { WorkflowMetadata } from '../src/shell/metadata.js'
import { compileSrcModules } from './helpers/child-modules.js'
import { APPS, TestDaemon } from './helpers/daemon.js'
import { readAudit } from './helpers/lock-scenarios.js'
import { runAction } from './helpers/run-action.js'

const tmpDirs: string[] = []
const tmpDir = (label: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pm2sd-audit-${label}-`))
  tmpDirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true })
})

const metadata: WorkflowMetadata = {
  platform: 'gitea',
  repository: 'acme/flyer-crawler',
  workflow: 'deploy',
  workflowRef: null,
  workflowSha: null,
  workflowFile: '.gitea/workflows/deploy.yml',
  workflowFileSha256: 'ab'.repeat(32),
  runId: '42',
  runNumber: '7',
  runAttempt: '1',
  runUrl: 'https://gitea.example/acme/flyer-crawler/actions/runs/42',
  job: 'deploy',
  event: 'push',
  ref: 'refs/heads/main',
  sha: 'c0ffee',
  actor: 'alice',
  runner: 'host-1',
  runnerOs: 'Linux',
  host: 'host-1',
  user: 'deploy',
  actionVersion: '0.1.0',
  nodeVersion: 'v24.0.0',
  pm2CliVersion: '7.0.4',
  pm2DaemonVersion: '7.0.4',
  pm2Home: '/home/deploy/.pm2',
  pm2ReadPath: 'rpc'
}

const input = (over: Partial<AuditInput> = {}): AuditInput => ({
  time: new Date().toISOString(),
  result: 'deployed',
  message: 'ok',
  app: 'flyer-crawler',
  environmentSuffix: '-test',
  strategy: 'reload',
  dryRun: false,
  ownNames: ['flyer-crawler-api-test'],
  commands: [{ command: 'pm2 reload flyer-crawler-api-test --update-env', exitCode: 0 }],
  violations: [],
  metadata,
  report: '/tmp/report.json',
  ...over
})

describe('audit records and paths', () => {
  test('the audit path from raw inputs is the one parseInputs resolves, so early aborts land in the same file', () => {
    const base = { INPUT_APP: 'flyer-crawler', INPUT_WHITELIST: 'flyer-crawler-api', HOME: '/home/deploy' }
    const cases: Record<string, string>[] = [
      { PM2_HOME: '/srv/pm2' },
      {},
      { 'INPUT_PM2-HOME': '~/other-pm2', PM2_HOME: '/srv/pm2' },
      { 'INPUT_PM2-HOME': '/srv/pm2', 'INPUT_AUDIT-LOG': 'audit/deploys.jsonl' },
      { 'INPUT_AUDIT-LOG': '/var/log/pm2-deploys.jsonl' },
      { 'INPUT_AUDIT-LOG': '~/deploys.jsonl' },
      { 'INPUT_AUDIT-LOG': '  ' },
      { 'INPUT_AUDIT-LOG': 'off' },
      { 'INPUT_AUDIT-LOG': 'OFF' }
    ]
    for (const c of cases) {
      const env = { ...base, ...c }
      expect(resolveAuditTarget(env)?.file ?? null, JSON.stringify(c)).toBe(parseInputs(env).auditLog)
    }
    expect(resolveAuditTarget({ ...base, PM2_HOME: '/srv/pm2' })).toEqual({ file: `/srv/pm2/${DEFAULT_AUDIT_FILE_NAME}`, explicit: false, pm2Home: '/srv/pm2' })
  })

  test('a record keeps a fixed set of fields: anything else a caller passes never reaches the log', () => {
    const leaky = {
      ...input(),
      metadata: { ...metadata, env: { SECRET: 'leak-1' } } as unknown as WorkflowMetadata,
      commands: [{ command: 'pm2 save', exitCode: 0, messages: ['leak-2'] }],
      violations: [{ kind: 'restarted', name: 'x', detail: 'd', extra: 'leak-3' }],
      processes: { before: [{ env: 'leak-4' }] }
    } as unknown as AuditInput
    const record = buildAuditRecord(leaky)
    expect(AuditRecordSchema.parse(record)).toEqual(record)
    expect(JSON.stringify(record)).not.toMatch(/leak-/)
  })

  test('the default file lives in PM2_HOME, which is never created: a wrong PM2_HOME gives a clear message', () => {
    const dir = tmpDir('nohome')
    const missing = path.join(dir, 'no-such-pm2-home')
    const problem = tryAppendAudit({ file: path.join(missing, DEFAULT_AUDIT_FILE_NAME), explicit: false, pm2Home: missing }, buildAuditRecord(input()))
    expect(problem).toMatch(/does not exist \(is PM2_HOME right\?\)/)
    expect(fs.existsSync(missing)).toBe(false)
    // A path the user chose gets its directory created.
    const chosen = path.join(dir, 'logs', 'deploys.jsonl')
    expect(tryAppendAudit({ file: chosen, explicit: true, pm2Home: missing }, buildAuditRecord(input()))).toBeNull()
    expect(readAudit(chosen)).toHaveLength(1)
  })

  test('appends from many processes at once never interleave or lose a line', async () => {
    const dir = tmpDir('concurrent')
    const { urls, dir: compiled } = compileSrcModules(['shell/audit'])
    onTestFinished(() => fs.rmSync(compiled, { recursive: true, force: true }))
    const file = path.join(dir, 'audit.jsonl')
    const worker = path.join(dir, 'append-worker.mjs')
    // Long lines (~8 KB, past any pipe-size atomicity) make interleaving visible if it happens.
    fs.writeFileSync(
      worker,
      `const { appendAudit, buildAuditRecord } = await import(${JSON.stringify(urls.audit)})
const [file, id, n] = process.argv.slice(2)
for (let i = 0; i < Number(n); i++) {
  appendAudit(file, buildAuditRecord({ time: new Date().toISOString(), result: 'deployed', message: id + ':' + i + ':' + 'x'.repeat(8000),
    app: 'w' + id, environmentSuffix: '', strategy: 'reload', dryRun: false, ownNames: ['w' + id], commands: [], violations: [], metadata: null, report: null }))
}
`
    )
    const writers = 6
    const each = 150
    const codes = await Promise.all(
      Array.from({ length: writers }, (_, id) => new Promise<number | null>((resolve) => spawn(process.execPath, [worker, file, String(id), String(each)], { stdio: 'inherit' }).on('close', resolve)))
    )
    expect(codes).toEqual(Array(writers).fill(0))
    const records = readAudit(file)
    expect(records).toHaveLength(writers * each)
    for (let id = 0; id < writers; id++) {
      const mine = records.filter((r) => r.app === `w${id}`).map((r) => Number(r.message.split(':')[1]))
      expect(mine).toEqual(Array.from({ length: each }, (_, i) => i))
    }
  })
})

describe('audit records from the bundled action', () => {
  let d: TestDaemon
  const SECRET = 's3cr3t-audit-step-value-5e1f'
  beforeAll(async () => {
    d = TestDaemon.create('audit')
    d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs`, env: { API_KEY: 's3cr3t-audit-neighbour-77aa' } })
    d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs` })
    await d.waitOnline()
  })
  afterAll(() => d?.destroy())

  const FLYER = { app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: 'flyer-crawler-api' }

  test('every attempt gets a record: deployed, dry run, refused inputs, refused ownership; no environment value in any', async () => {
    const auditFile = path.join(d.home, DEFAULT_AUDIT_FILE_NAME)
    const env = { DEPLOY_TOKEN: SECRET }
    const runs = [
      await runAction({ inputs: FLYER, pm2Home: d.home, baseDir: d.dir, env }),
      await runAction({ inputs: { ...FLYER, 'dry-run': 'true' }, pm2Home: d.home, baseDir: d.dir, env }),
      await runAction({ inputs: { ...FLYER, strategy: 'sideways' }, pm2Home: d.home, baseDir: d.dir, env }),
      await runAction({ inputs: { ...FLYER, whitelist: 'flyer-crawler-api-test' }, pm2Home: d.home, baseDir: d.dir, env })
    ]
    expect(runs.map((r) => r.outputs.result)).toEqual(['deployed', 'dry-run', 'aborted', 'aborted'])
    const records = readAudit(auditFile)
    expect(records).toMatchObject([
      { result: 'deployed', dryRun: false, ownNames: ['flyer-crawler-api-test'], commands: [{ command: 'pm2 reload flyer-crawler-api-test --update-env', exitCode: 0 }, { command: 'pm2 save' }] },
      { result: 'dry-run', dryRun: true, commands: [] },
      { result: 'aborted', message: expect.stringContaining('strategy must be reload, restart or recreate'), commands: [], ownNames: [] },
      { result: 'aborted', message: expect.stringMatching(/drop the suffix/i), commands: [] }
    ])
    // Who tried, even when the inputs were refused before the metadata phase.
    for (const r of records) expect(r.metadata).toMatchObject({ repository: 'acme/flyer-crawler', runUrl: expect.stringMatching(/^https:\/\/github\.example\//), host: os.hostname() })
    expect(records[0]!.metadata?.pm2DaemonVersion).toMatch(/^\d+\.\d+/)
    const text = fs.readFileSync(auditFile, 'utf8')
    for (const secret of [SECRET, 's3cr3t-audit-neighbour-77aa', 'github_tracking_id_test', 'runtime-token-value']) expect(text).not.toContain(secret)
  })

  test('no daemon at PM2_HOME: the refused attempt is recorded there, or, if PM2_HOME does not exist, not created', async () => {
    const home = path.join(tmpDir('nodaemon'), 'pm2home')
    fs.mkdirSync(home)
    const run = await runAction({ inputs: FLYER, pm2Home: home, baseDir: path.dirname(home) })
    expect(run.outputs.result).toBe('aborted')
    expect(readAudit(path.join(home, DEFAULT_AUDIT_FILE_NAME))).toMatchObject([{ result: 'aborted', message: expect.stringContaining('No PM2 daemon answers') }])
    // Nothing else was created there: no daemon, no lock; only the record and the run's report beside it.
    expect(fs.readdirSync(home).sort()).toEqual(['pm2-safe-deploy', DEFAULT_AUDIT_FILE_NAME])
    expect(fs.readdirSync(path.join(home, 'pm2-safe-deploy', 'runs'))).toHaveLength(1)

    const missing = path.join(path.dirname(home), 'typo-pm2home')
    const run2 = await runAction({ inputs: FLYER, pm2Home: missing, baseDir: path.dirname(home) })
    expect(run2.outputs.result).toBe('aborted')
    expect(fs.existsSync(missing)).toBe(false)
    expect(run2.stdout).toMatch(/::warning::could not append to the audit log .*does not exist \(is PM2_HOME right\?\)/)
  })

  test('`audit-log: off` writes nothing; an explicit path is used, its directory created', async () => {
    const auditFile = path.join(d.home, DEFAULT_AUDIT_FILE_NAME)
    const before = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8') : ''
    const off = await runAction({ inputs: { ...FLYER, 'audit-log': 'off', 'dry-run': 'true' }, pm2Home: d.home, baseDir: d.dir })
    expect(off.outputs.result).toBe('dry-run')
    expect(fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8') : '').toBe(before)

    const chosen = path.join(d.dir, 'audit', 'nested', 'deploys.jsonl')
    const on = await runAction({ inputs: { ...FLYER, 'audit-log': chosen, 'dry-run': 'true' }, pm2Home: d.home, baseDir: d.dir })
    expect(on.outputs.result).toBe('dry-run')
    expect(readAudit(chosen)).toMatchObject([{ result: 'dry-run' }])
    expect(fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8') : '').toBe(before)
  })
})

// The action as the real runners run it (issue 13): every input set for main and post,
// fresh runner files per step, RUNNER_TEMP deleted when the job ends, act_runner's and
// Forgejo's variables, and the cancel sequences of GitHub (SIGINT → SIGTERM → SIGKILL)
// and act_runner (SIGKILL, then the post step). Real daemon, bundled dist/.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { DEFAULT_AUDIT_FILE_NAME } from '../src/shell/audit.js'
import { LOCK_FILE_NAME, readLock } from '../src/shell/lock.js'
import { STATE } from '../src/shell/state.js'
import { APPS, TestDaemon } from './helpers/daemon.js'
import { cancelLikeRunner, readAudit, startAction, stopStarted, waitFor, type StartedAction } from './helpers/lock-scenarios.js'
import { runAction, runPost, type RunnerKind } from './helpers/run-action.js'

let d: TestDaemon
const started: StartedAction[] = []
const OWN = { app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: 'flyer-crawler-api' }
const neighbourOnly = (n: string) => n === 'stock-alert-api'

beforeAll(async () => {
  d = TestDaemon.create('runners')
  d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/print-env.cjs` })
  await d.waitOnline()
})
afterEach(() => stopStarted(started))
afterAll(() => d?.destroy())

/** Every variable of a forge that must never reach an app: per-step files and tokens. */
const FORBIDDEN = /^(INPUT_|STATE_|ACTIONS_)|^RUNNER_TRACKING_ID$|^(GITHUB|GITEA|FORGEJO)_(OUTPUT|STATE|STEP_SUMMARY|ENV|PATH|EVENT_PATH|\w*TOKEN)$/
const TOKEN_VALUES = ['gitea-token-value', 'gitea-registration-token-value', 'forgejo-token-value', 'runtime-token-value', 'github_tracking_id_test']

describe.each<RunnerKind>(['act', 'forgejo'])("%s's step environment", (runner) => {
  test('reaches neither the restarted app nor dump.pm2 after save (promise 7)', async () => {
    const run = await runAction({ inputs: { ...OWN, strategy: 'restart' }, pm2Home: d.home, baseDir: d.dir, runner, env: { RELEASE_TAG: 'v9' } })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    // The step did get them: the test would be empty otherwise.
    expect(Object.keys(run.jobEnv)).toEqual(expect.arrayContaining(['GITEA_TOKEN', 'GITEA_ACTIONS', 'INPUT_AUDIT-LOG']))
    const app = d.jlistRaw().find((p) => p.name === 'flyer-crawler-api-test')!
    const keys = [...Object.keys(app.pm2_env.env ?? {}), ...Object.keys(app.pm2_env)]
    expect(keys.filter((k) => FORBIDDEN.test(k))).toEqual([])
    expect(app.pm2_env.env?.RELEASE_TAG).toBe('v9')
    expect(app.pm2_env.env?.GITEA_ACTIONS).toBe('true')
    const dump = fs.readFileSync(path.join(d.home, 'dump.pm2'), 'utf8')
    const dumpKeys = (JSON.parse(dump) as Record<string, unknown>[]).flatMap((a) => [...Object.keys(a), ...Object.keys((a.env ?? {}) as object)])
    expect(dumpKeys.filter((k) => FORBIDDEN.test(k))).toEqual([])
    for (const v of TOKEN_VALUES) expect(dump.includes(v), `dump.pm2 holds ${v}`).toBe(false)
  })
})

describe('the record outlives the job (promise 11)', () => {
  test('snapshots and report are kept under <pm2-home>/pm2-safe-deploy/runs, private, named by the audit record; RUNNER_TEMP is gone', async () => {
    const run = await runAction({ inputs: OWN, pm2Home: d.home, baseDir: d.dir, post: true })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.post?.code).toBe(0)
    expect(fs.existsSync(run.jobEnv.RUNNER_TEMP!)).toBe(false)
    const runDir = path.dirname(run.outputs.report!)
    expect(path.dirname(runDir)).toBe(path.join(d.home, 'pm2-safe-deploy', 'runs'))
    for (const dir of [path.join(d.home, 'pm2-safe-deploy'), path.dirname(runDir), runDir]) expect(fs.statSync(dir).mode & 0o777, dir).toBe(0o700)
    for (const f of [run.outputs['snapshot-before']!, run.outputs['snapshot-after']!, run.outputs.report!]) {
      expect(path.dirname(f)).toBe(runDir)
      expect(fs.statSync(f).mode & 0o777, f).toBe(0o600)
    }
    const last = readAudit(path.join(d.home, DEFAULT_AUDIT_FILE_NAME)).at(-1)!
    expect(last).toMatchObject({ result: 'deployed', report: run.outputs.report, snapshots: { before: run.outputs['snapshot-before'], after: run.outputs['snapshot-after'] } })
  })

  test('the newest 100 runs are kept: older ones go, the current one and foreign files stay', async () => {
    const root = path.join(d.home, 'pm2-safe-deploy', 'runs')
    for (let i = 0; i < 105; i++) {
      const old = path.join(root, `2020010${1 + Math.floor(i / 60)}T0000${String(i % 60).padStart(2, '0')}000Z-old-${i}`)
      fs.mkdirSync(old, { recursive: true })
      fs.writeFileSync(path.join(old, 'report.json'), '{}')
    }
    fs.writeFileSync(path.join(root, 'NOTES.txt'), 'kept by hand')
    const run = await runAction({ inputs: OWN, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    const left = fs.readdirSync(root)
    expect(left.filter((n) => n !== 'NOTES.txt')).toHaveLength(100)
    expect(left).toContain('NOTES.txt')
    expect(left).toContain(path.basename(path.dirname(run.outputs.report!)))
    expect(left).not.toContain('20200101T000000000Z-old-0')
  })
})

describe('cancelled mid-deploy, as each runner cancels', () => {
  const lockFile = () => path.join(d.home, LOCK_FILE_NAME)

  async function inVerify(runner: RunnerKind, auditLog: string, runId: string): Promise<StartedAction> {
    const s = startAction({ inputs: { ...OWN, 'stable-seconds': '60', 'timeout-seconds': '120', 'audit-log': auditLog }, pm2Home: d.home, baseDir: d.dir, runId, runner })
    started.push(s)
    await waitFor(`deploy ${runId} to reach verification`, () => s.stdout().includes('::group::Verify own processes'), s)
    return s
  }

  test('GitHub (SIGINT, then SIGTERM, then SIGKILL): one record, the lock released, the post step has nothing left', async () => {
    const auditLog = path.join(d.dir, 'custom-audit', 'github.jsonl')
    const before = d.fingerprint(neighbourOnly)
    const s = await inVerify('github', auditLog, '8101')
    const run = await cancelLikeRunner(s)
    expect(run.code).toBe(1)
    expect(fs.existsSync(lockFile())).toBe(false)
    const post = await runPost(run, d.home)
    expect(post.code, post.stdout).toBe(0)
    expect(post.stdout).not.toContain('::warning::')
    const records = readAudit(auditLog)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ result: 'failed', message: expect.stringMatching(/^Deploy interrupted by SIGINT after sending pm2 commands/) })
    // The record names the before-snapshot, kept on the host.
    expect(fs.existsSync(records[0]!.snapshots!.before!)).toBe(true)
    expect(records[0]!.snapshots!.before!.startsWith(path.join(d.home, 'pm2-safe-deploy', 'runs'))).toBe(true)
    expect(d.fingerprint(neighbourOnly)).toEqual(before)
  })

  test('SIGINT and SIGTERM back to back run the one handler once: one record', async () => {
    const auditLog = path.join(d.dir, 'custom-audit', 'both.jsonl')
    const s = await inVerify('github', auditLog, '8102')
    s.child.kill('SIGINT')
    s.child.kill('SIGTERM')
    const run = await s.done
    expect(run.code).toBe(1)
    expect(fs.existsSync(lockFile())).toBe(false)
    expect(readAudit(auditLog)).toHaveLength(1)
  })

  test('act_runner (SIGKILL at once): the post step, given every input again, releases the lock and records to the custom audit-log', async () => {
    const auditLog = path.join(d.dir, 'custom-audit', 'act.jsonl')
    const s = await inVerify('act', auditLog, '8103')
    const run = await cancelLikeRunner(s)
    expect(readLock(lockFile())).toMatchObject({ kind: 'held', holder: { pid: s.pid, token: run.state[STATE.lockToken] } })
    expect(readAudit(auditLog)).toHaveLength(0)
    const post = await runPost(run, d.home)
    expect(post.code, post.stdout).toBe(0)
    expect(post.stdout).toContain('::warning::The main step ended without releasing the host lock')
    expect(fs.existsSync(lockFile())).toBe(false)
    const records = readAudit(auditLog)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ result: 'failed', app: 'flyer-crawler', environmentSuffix: '-test', message: expect.stringMatching(/died holding the host lock/) })
    // Nothing went to the default audit log for this run.
    expect(readAudit(path.join(d.home, DEFAULT_AUDIT_FILE_NAME)).filter((r) => r.metadata?.runId === '8103' || /died holding/.test(r.message))).toEqual([])
    // The next deploy neither waits nor takes anything over.
    const next = await runAction({ inputs: OWN, pm2Home: d.home, baseDir: d.dir, runner: 'act' })
    expect(next.outputs.result, next.stdout).toBe('deployed')
  })
})

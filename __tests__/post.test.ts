// The post step (runs.post, post-if: always()) as a runner runs it: a second node run
// with the main step's saved state as STATE_* variables. It releases this job's host
// lock when the main step died holding it, and never anyone else's.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { LOCK_FILE_NAME, readLock } from '../src/shell/lock.js'
import { STATE } from '../src/shell/state.js'
import type { TestDaemon } from './helpers/daemon.js'
import { lockTestHost, readAudit, startAction, stopStarted, waitFor, type StartedAction } from './helpers/lock-scenarios.js'
import { DEFAULT_AUDIT_FILE_NAME } from '../src/shell/audit.js'
import { runAction, runPost } from './helpers/run-action.js'

describe('post step', () => {
  let d: TestDaemon
  let lockFile = ''
  const started: StartedAction[] = []
  beforeAll(async () => {
    d = await lockTestHost('post')
    lockFile = path.join(d.home, LOCK_FILE_NAME)
  })
  afterEach(() => stopStarted(started))
  afterAll(() => d?.destroy())

  const LONG = { app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: 'flyer-crawler-api', 'stable-seconds': '60', 'timeout-seconds': '120' }
  const PROD_LONG = { app: 'flyer-crawler', whitelist: 'flyer-crawler-api', 'stable-seconds': '60', 'timeout-seconds': '120' }

  async function inVerify(inputs: Record<string, string>, runId: string): Promise<StartedAction> {
    const s = startAction({ inputs, pm2Home: d.home, baseDir: d.dir, runId })
    started.push(s)
    await waitFor(`deploy ${runId} to reach verification`, () => s.stdout().includes('::group::Verify own processes'), s)
    return s
  }

  async function killed(inputs: Record<string, string>, runId: string) {
    const s = await inVerify(inputs, runId)
    process.kill(s.pid, 'SIGKILL')
    const run = await s.done
    // The state the post step gets was saved before the lock was taken.
    expect(run.state[STATE.lockFile]).toBe(lockFile)
    expect(readLock(lockFile)).toMatchObject({ kind: 'held', holder: { pid: s.pid, token: run.state[STATE.lockToken] } })
    return { s, run }
  }

  test('after a main step that died holding the lock, the post step releases it', async () => {
    const { run } = await killed(LONG, '7001')
    const post = await runPost(run, d.home)
    expect(post.code).toBe(0)
    expect(post.stdout).toContain(`::warning::The main step ended without releasing the host lock ${lockFile}`)
    expect(fs.existsSync(lockFile)).toBe(false)
    // The killed main step wrote no audit record; the post step wrote one for it.
    const audit = readAudit(path.join(d.home, DEFAULT_AUDIT_FILE_NAME))
    expect(audit.at(-1)).toMatchObject({ result: 'failed', app: 'flyer-crawler', environmentSuffix: '-test' })
    expect(audit.at(-1)!.message).toMatch(/died holding the host lock; the post step released it/)
    // Run again, it has nothing left to do.
    expect((await runPost(run, d.home)).stdout).toContain('already released')
    // The next deploy neither waits nor takes anything over.
    const next = await runAction({ inputs: { app: 'flyer-crawler', whitelist: 'flyer-crawler-api' }, pm2Home: d.home, baseDir: d.dir })
    expect(next.outputs.result, next.stdout).toBe('deployed')
    expect(next.stdout).not.toMatch(/Took over|Waiting for another deploy/)
  })

  test("after another job took the stale lock over, the post step leaves that job's lock alone", async () => {
    const { s: dead, run } = await killed(LONG, '7002')
    // Another job (production) takes the stale lock over and is deploying.
    const other = await inVerify(PROD_LONG, '7003')
    expect(other.stdout()).toContain(`Took over a stale deploy lock`)
    expect(other.stdout()).toContain(`pid ${dead.pid}`)
    expect(readLock(lockFile)).toMatchObject({ kind: 'held', holder: { pid: other.pid, runId: '7003' } })
    const othersLock = fs.readFileSync(lockFile, 'utf8')

    const post = await runPost(run, d.home)
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('the host lock belongs to another deploy')
    expect(post.stdout).toContain('run 7003')
    expect(post.stdout).not.toContain('::warning::')
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(othersLock)
    expect(other.child.exitCode).toBeNull()

    other.child.kill('SIGTERM')
    await other.done
    expect(fs.existsSync(lockFile)).toBe(false)
  })

  test('while the main step still runs, the post step never takes its lock', async () => {
    const running = await inVerify(LONG, '7004')
    const post = await runPost({ state: running.state(), runnerDir: running.runnerDir, jobEnv: running.jobEnv, runner: running.runner }, d.home)
    expect(post.code).toBe(0)
    expect(post.stdout).toContain(`still runs and holds the host lock`)
    expect(readLock(lockFile)).toMatchObject({ kind: 'held', holder: { pid: running.pid } })
    running.child.kill('SIGTERM')
    await running.done
    expect(fs.existsSync(lockFile)).toBe(false)
  })

  test('a main step that stopped before taking the lock leaves nothing for the post step', async () => {
    const run = await runAction({ inputs: { app: 'flyer-crawler', whitelist: 'flyer-crawler-api', strategy: 'bogus' }, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result).toBe('aborted')
    expect(run.state).toEqual({})
    const post = await runPost(run, d.home)
    expect(post.code).toBe(0)
    expect(post.stdout).toContain('This job took no host lock')
  })
})

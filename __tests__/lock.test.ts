// Promise 6: one deploy at a time per PM2 daemon. First the lock's logic on its own
// (no daemon): atomic create, stale detection, never breaking a live holder, racing
// takeovers in real concurrent processes. Then the bundled action on a real daemon:
// a deploy SIGKILLed while holding the lock, a deploy timing out on a live lock, and
// SIGTERM during a deploy.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { DEFAULT_AUDIT_FILE_NAME } from '../src/shell/audit.js'
import {
  acquireHostLock,
  createExclusive,
  holderAlive,
  LOCK_FILE_NAME,
  LockHolderSchema,
  LockTimeoutError,
  processStart,
  readLock,
  releaseAfterMainStep,
  releaseIfHeld,
  removeStaleLock,
  sweepLeftovers,
  type LockHolder
} from '../src/shell/lock.js'
import { compileSrcModules } from './helpers/child-modules.js'
import { ROOT, type TestDaemon } from './helpers/daemon.js'
import { lockTestHost, readAudit, startAction, stopStarted, waitFor, type StartedAction } from './helpers/lock-scenarios.js'
import { runAction, runPost } from './helpers/run-action.js'

const HOST = os.hostname()
const tmpDirs: string[] = []
const tmpDir = (label: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `pm2sd-lock-${label}-`))
  tmpDirs.push(d)
  return d
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true })
})

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

function holder(over: Partial<LockHolder> = {}): LockHolder {
  return {
    token: `tok-${Math.random().toString(36).slice(2)}`,
    pid: process.pid,
    host: HOST,
    procStart: processStart(process.pid),
    repository: 'acme/other-app',
    workflow: 'deploy other',
    runId: '777',
    runUrl: 'https://github.example/acme/other-app/actions/runs/777',
    job: 'deploy-prod',
    app: 'other-app',
    suffix: '-prod',
    since: new Date().toISOString(),
    ...over
  }
}

function writeLock(home: string, h: LockHolder | string): string {
  const file = path.join(home, LOCK_FILE_NAME)
  fs.writeFileSync(file, typeof h === 'string' ? h : JSON.stringify(h) + '\n')
  return file
}

function ageFile(file: string, seconds: number): void {
  const t = new Date(Date.now() - seconds * 1000)
  fs.utimesSync(file, t, t)
}

const me = { repository: 'acme/flyer-crawler', workflow: 'deploy', runId: '1', runUrl: null, job: 'deploy', app: 'flyer-crawler', suffix: '-test', host: HOST }

function recorder() {
  const infos: string[] = []
  const warnings: string[] = []
  return { infos, warnings, log: { info: (m: string) => infos.push(m), warning: (m: string) => warnings.push(m) } }
}

describe('lock logic, no daemon', () => {
  test('the lock is created whole and atomically: a second create fails and leaves the first intact', () => {
    const home = tmpDir('create')
    const file = path.join(home, LOCK_FILE_NAME)
    expect(createExclusive(file, '{"first":true}\n')).toBe(true)
    expect(createExclusive(file, '{"second":true}\n')).toBe(false)
    expect(fs.readFileSync(file, 'utf8')).toBe('{"first":true}\n')
    // No temp files are left beside it.
    expect(fs.readdirSync(home)).toEqual([LOCK_FILE_NAME])
  })

  test('beforeWaiting runs once, only when another holder makes it wait, and its error ends the wait', async () => {
    const home = tmpDir('before-waiting')
    let calls = 0
    const free = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0, log: recorder().log, beforeWaiting: async () => void calls++ })
    expect(calls).toBe(0)
    const err = await acquireHostLock({
      pm2Home: home,
      holder: me,
      timeoutSeconds: 30,
      pollMs: 20,
      log: recorder().log,
      beforeWaiting: async () => {
        calls++
        throw new Error('own names are wrong')
      }
    }).catch((e) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe('own names are wrong')
    expect(calls).toBe(1)
    free.release()
  })

  test('acquire records who holds it; release removes it once; the record validates', async () => {
    const home = tmpDir('acquire')
    const r = recorder()
    const lock = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0, log: r.log })
    const onDisk = LockHolderSchema.parse(JSON.parse(fs.readFileSync(lock.file, 'utf8')))
    expect(onDisk).toMatchObject({ ...me, pid: process.pid, token: lock.holder.token })
    expect(Date.parse(onDisk.since)).not.toBeNaN()
    expect(lock.release()).toBe(true)
    expect(fs.existsSync(lock.file)).toBe(false)
    expect(lock.release()).toBe(false)
    expect(r.warnings).toEqual([])
  })

  test('a live holder is never broken: the waiter names it and times out, the lock untouched', async () => {
    const home = tmpDir('live')
    const h = holder()
    const file = writeLock(home, h)
    ageFile(file, 3600)
    const before = fs.readFileSync(file, 'utf8')
    const r = recorder()
    const err = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0.3, pollMs: 20, log: r.log }).catch((e) => e)
    expect(err).toBeInstanceOf(LockTimeoutError)
    expect(err.message).toContain('acme/other-app / deploy other / deploy-prod')
    expect(err.message).toContain('https://github.example/acme/other-app/actions/runs/777')
    expect(err.message).toContain(`pid ${process.pid} on ${HOST}`)
    expect(err.message).toMatch(/lock-timeout-seconds \(0\.3 s\)/)
    expect(r.infos.filter((m) => m.startsWith('Waiting for another deploy'))).toHaveLength(1)
    expect(fs.readFileSync(file, 'utf8')).toBe(before)
  })

  test('a holder on another host is never taken over, even with a pid that is not running here', async () => {
    const home = tmpDir('otherhost')
    const file = writeLock(home, holder({ host: 'some-other-host', pid: deadPid() }))
    const err = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0.2, pollMs: 20, log: recorder().log }).catch((e) => e)
    expect(err).toBeInstanceOf(LockTimeoutError)
    expect(fs.existsSync(file)).toBe(true)
  })

  test('a lock whose holder process is gone is taken over with a warning naming it', async () => {
    const home = tmpDir('dead')
    const stale = holder({ pid: deadPid(), procStart: null })
    writeLock(home, stale)
    expect(holderAlive(stale, HOST)).toBe(false)
    const r = recorder()
    const lock = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0, log: r.log })
    expect(r.warnings).toHaveLength(1)
    expect(r.warnings[0]).toMatch(/Took over a stale deploy lock/)
    expect(r.warnings[0]).toContain(`pid ${stale.pid}`)
    expect(readLock(lock.file)).toMatchObject({ kind: 'held', holder: { token: lock.holder.token } })
    lock.release()
    // Claims are cleaned up after the takeover.
    expect(fs.readdirSync(home)).toEqual([])
  })

  test('a pid now used by another process (different start time) counts as gone', () => {
    expect(holderAlive(holder({ procStart: processStart(process.pid) }), HOST)).toBe(true)
    if (processStart(process.pid) === null) return // not Linux: no start times to compare
    expect(holderAlive(holder({ procStart: '1' }), HOST)).toBe(false)
  })

  test('an empty or half-written lock is waited on while young and taken over once older than the grace period', async () => {
    for (const content of ['', '{"token":"abc","pid":12', '\u0000\u0000']) {
      const home = tmpDir('unreadable')
      const file = writeLock(home, content)
      // Young: its writer may be mid-way. Wait, do not break it.
      const err = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0.2, pollMs: 20, graceMs: 5000, log: recorder().log }).catch((e) => e)
      expect(err).toBeInstanceOf(LockTimeoutError)
      expect(err.message).toMatch(/writing the lock file right now/)
      expect(fs.readFileSync(file, 'utf8')).toBe(content)
      // Old: its writer died between create and write.
      ageFile(file, 30)
      const r = recorder()
      const lock = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0, graceMs: 5000, log: r.log })
      expect(r.warnings[0]).toMatch(/empty or cut short/)
      expect(readLock(file)).toMatchObject({ kind: 'held', holder: { token: lock.holder.token } })
      lock.release()
    }
  })

  test('a lock this code does not understand (valid JSON, other shape) is never broken', async () => {
    const home = tmpDir('foreign')
    const file = writeLock(home, '{"owner":"a future version"}\n')
    ageFile(file, 3600)
    const err = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0.2, pollMs: 20, log: recorder().log }).catch((e) => e)
    expect(err).toBeInstanceOf(LockTimeoutError)
    expect(err.message).toContain('unrecognised lock record')
    expect(err.message).toContain(`delete ${file}`)
    expect(fs.readFileSync(file, 'utf8')).toBe('{"owner":"a future version"}\n')
  })

  test('two waiters saw the same stale lock: the late one does not delete the fresh lock the first one took', async () => {
    const home = tmpDir('race')
    const file = writeLock(home, holder({ pid: deadPid(), procStart: null }))
    const seenByBoth = readLock(file)
    expect(seenByBoth.kind).toBe('held')
    // Waiter 1 takes it over and now holds a fresh lock.
    const first = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0, log: recorder().log })
    const fresh = fs.readFileSync(file, 'utf8')
    // Waiter 2 acts on what it saw before: nothing happens.
    expect(removeStaleLock(file, seenByBoth as Exclude<typeof seenByBoth, { kind: 'absent' }>, HOST)).toBe(false)
    expect(fs.readFileSync(file, 'utf8')).toBe(fresh)
    // …and it waits for the fresh, live holder instead of taking it.
    const err = await acquireHostLock({ pm2Home: home, holder: { ...me, app: 'second' }, timeoutSeconds: 0.1, pollMs: 20, log: recorder().log }).catch((e) => e)
    expect(err).toBeInstanceOf(LockTimeoutError)
    expect(fs.readFileSync(file, 'utf8')).toBe(fresh)
    first.release()
  })

  test('a stale lock claimed by a live claimant is left to it; a dead claimant is passed over', () => {
    const home = tmpDir('claims')
    const file = writeLock(home, holder({ token: 'stale-one', pid: deadPid(), procStart: null }))
    const seen = readLock(file) as Exclude<ReturnType<typeof readLock>, { kind: 'absent' }>
    const claim0 = `${file}.claim-tstale-one.0`
    // A live claimant (this process) is busy removing it: do not interfere.
    fs.writeFileSync(claim0, JSON.stringify({ pid: process.pid, host: HOST, procStart: processStart(process.pid) }))
    expect(removeStaleLock(file, seen, HOST)).toBe(false)
    expect(fs.existsSync(file)).toBe(true)
    // That claimant died mid-way: the next generation claims it and removes the lock.
    fs.writeFileSync(claim0, JSON.stringify({ pid: deadPid(), host: HOST, procStart: null }))
    expect(removeStaleLock(file, seen, HOST)).toBe(true)
    expect(fs.readdirSync(home)).toEqual([])
  })

  test('release only removes the lock of its own token', () => {
    const home = tmpDir('release')
    const h = holder()
    const file = writeLock(home, h)
    expect(releaseIfHeld(file, 'not-mine')).toBe(false)
    expect(fs.existsSync(file)).toBe(true)
    expect(releaseIfHeld(file, h.token)).toBe(true)
    expect(fs.existsSync(file)).toBe(false)
  })

  test('post-step release: only this job’s lock, only when its main step process is gone', () => {
    const home = tmpDir('post')
    const dead = holder({ pid: deadPid(), procStart: null })
    let file = writeLock(home, dead)
    expect(releaseAfterMainStep(file, 'another-token', HOST)).toMatchObject({ outcome: 'not-held', detail: /another deploy/ })
    expect(fs.existsSync(file)).toBe(true)
    expect(releaseAfterMainStep(file, dead.token, HOST)).toMatchObject({ outcome: 'released' })
    expect(fs.existsSync(file)).toBe(false)
    expect(releaseAfterMainStep(file, dead.token, HOST)).toMatchObject({ outcome: 'not-held', detail: /already released/ })
    // A waiter is taking the dead lock over right now (its claim exists): the post step leaves it to that waiter.
    const dead2 = holder({ pid: deadPid(), procStart: null })
    file = writeLock(home, dead2)
    fs.writeFileSync(`${file}.claim-t${dead2.token}.0`, JSON.stringify({ pid: process.pid, host: HOST, procStart: processStart(process.pid) }))
    expect(releaseAfterMainStep(file, dead2.token, HOST)).toMatchObject({ outcome: 'not-held', detail: /taking the stale lock over/ })
    expect(readLock(file)).toMatchObject({ kind: 'held', holder: { token: dead2.token } })
    fs.rmSync(`${file}.claim-t${dead2.token}.0`)
    const live = holder()
    file = writeLock(home, live)
    expect(releaseAfterMainStep(file, live.token, HOST)).toMatchObject({ outcome: 'holder-running' })
    expect(fs.existsSync(file)).toBe(true)
  })

  test('taking over a stale lock leaves another claimant\'s claim in flight (its .tmp) alone: that claimant links it, then finds the lock gone', () => {
    const home = tmpDir('inflight')
    const file = writeLock(home, holder({ pid: deadPid(), procStart: null }))
    const seen = readLock(file)
    if (seen.kind === 'absent') throw new Error('no lock written')
    // Another process has written its claim's temporary file and is about to link it (createExclusive).
    const inflight = path.join(home, `${LOCK_FILE_NAME}.claim-${seen.id.replace(/[^\w-]/g, '_')}.1.0f0e.tmp`)
    fs.writeFileSync(inflight, '{}\n')
    expect(removeStaleLock(file, seen, HOST)).toBe(true)
    expect(fs.existsSync(inflight)).toBe(true)
    expect(fs.readdirSync(home).filter((n) => n.includes('.claim-') && !n.endsWith('.tmp'))).toEqual([])
  })

  test('leftover temp files and claims on locks that are gone are swept; current ones are kept', () => {
    const home = tmpDir('sweep')
    const file = writeLock(home, holder({ token: 'current' }))
    const names = [`${LOCK_FILE_NAME}.abc.tmp`, `${LOCK_FILE_NAME}.claim-tgone.0`, `${LOCK_FILE_NAME}.claim-tcurrent.0`, 'pm2-safe-deploy.audit.jsonl', 'dump.pm2']
    for (const n of names) {
      fs.writeFileSync(path.join(home, n), '')
      ageFile(path.join(home, n), 3600)
    }
    sweepLeftovers(file, readLock(file))
    expect(fs.readdirSync(home).sort()).toEqual([LOCK_FILE_NAME, `${LOCK_FILE_NAME}.claim-tcurrent.0`, 'dump.pm2', 'pm2-safe-deploy.audit.jsonl'].sort())
  })
})

describe('lock races between real processes, no daemon', () => {
  let lockUrl = ''
  let compiled = ''
  beforeAll(() => {
    const c = compileSrcModules(['shell/lock'])
    lockUrl = c.urls.lock!
    compiled = c.dir
  })
  afterAll(() => fs.rmSync(compiled, { recursive: true, force: true }))

  function runWorkers(home: string, modes: string[], iterations: number) {
    const journal = path.join(home, '..', 'journal')
    fs.writeFileSync(journal, '')
    return Promise.all(
      modes.map(
        (mode) =>
          new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
            const child = spawn(process.execPath, [path.join(ROOT, '__tests__', 'helpers', 'lock-worker.mjs'), lockUrl, home, String(iterations), mode, journal], {
              stdio: ['ignore', 'pipe', 'pipe']
            })
            let out = ''
            let err = ''
            child.stdout.on('data', (d) => (out += d))
            child.stderr.on('data', (d) => (err += d))
            child.on('close', (code, signal) => resolve({ code, signal, out, err }))
          })
      )
    ).then((results) => ({ results, journal: fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean) }))
  }

  /** enter/leave lines must pair up with nothing in between: one holder at a time. */
  function expectSerialised(journal: string[]): number {
    let inside: string | null = null
    let rounds = 0
    for (const line of journal) {
      const [what, pid] = line.split(' ')
      if (what === 'enter') {
        expect(inside, `two holders at once: ${line}`).toBeNull()
        inside = pid!
        rounds++
      } else if (what === 'leave') {
        expect(inside).toBe(pid)
        inside = null
      }
    }
    return rounds
  }

  test('eight processes, four of them killed while holding it: one holder at a time, each stale lock taken over exactly once', async () => {
    const dir = tmpDir('workers')
    const home = path.join(dir, 'pm2home')
    fs.mkdirSync(home)
    const modes = ['live', 'die', 'live', 'die', 'live', 'die', 'live', 'die']
    const { results, journal } = await runWorkers(home, modes, 4)
    for (const [i, r] of results.entries()) {
      if (modes[i] === 'die') expect(r.signal).toBe('SIGKILL')
      else expect(r.code, r.err).toBe(0)
    }
    const stats = results.map((r) => JSON.parse(r.out.trim().split('\n').pop()!) as { overlaps: number; takeovers: number; rounds: number })
    expect(stats.map((s) => s.overlaps)).toEqual(modes.map(() => 0))
    expect(expectSerialised(journal)).toBe(32)
    // Four locks were left by killed holders; each was taken over once, by one waiter
    // (the last one by this process, if a killed worker held it last).
    const last = recorder()
    const after = await acquireHostLock({ pm2Home: home, holder: me, timeoutSeconds: 0, log: last.log })
    after.release()
    expect(journal.filter((l) => l.startsWith('takeover ')).length + last.warnings.length).toBe(4)
    // Nothing is left behind: no lock, no claims, no temp files.
    expect(fs.readdirSync(home)).toEqual([])
  })

  test('a holder that exits without releasing (uncaught error, process.exit) still releases through its exit hook', async () => {
    const dir = tmpDir('exit')
    const home = path.join(dir, 'pm2home')
    fs.mkdirSync(home)
    const { results, journal } = await runWorkers(home, ['exit', 'live'], 2)
    expect(results[0]!.code).toBe(3)
    expect(results[1]!.code, results[1]!.err).toBe(0)
    expect(journal.filter((l) => l.startsWith('takeover '))).toEqual([])
    expect(expectSerialised(journal)).toBe(4)
    expect(fs.readdirSync(home)).toEqual([])
  })
})

describe('the bundled action on a real daemon', () => {
  let d: TestDaemon
  let lockFile = ''
  const started: StartedAction[] = []
  beforeAll(async () => {
    d = await lockTestHost('lock')
    lockFile = path.join(d.home, LOCK_FILE_NAME)
  })
  afterEach(() => stopStarted(started))
  afterAll(() => d?.destroy())

  /** A deploy of the test environment that stays in its stability window for a minute. */
  const LONG = { app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: 'flyer-crawler-api', 'stable-seconds': '60', 'timeout-seconds': '120' }
  const PROD = { app: 'flyer-crawler', whitelist: 'flyer-crawler-api' }
  const audit = () => readAudit(path.join(d.home, DEFAULT_AUDIT_FILE_NAME))
  const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/)

  async function longDeployInVerify(runId: string): Promise<StartedAction> {
    const s = startAction({ inputs: LONG, pm2Home: d.home, baseDir: d.dir, runId })
    started.push(s)
    await waitFor(`deploy ${runId} to reach verification`, () => s.stdout().includes('::group::Verify own processes'), s)
    expect(readLock(lockFile)).toMatchObject({ kind: 'held', holder: { pid: s.pid, runId, token: s.state()['lock-token'] } })
    return s
  }

  test('a deploy SIGKILLed while holding the lock leaves it stale; the next deploy takes it over with a warning', async () => {
    const killed = await longDeployInVerify('9001')
    process.kill(killed.pid, 'SIGKILL')
    await killed.done
    expect(readLock(lockFile)).toMatchObject({ kind: 'held', holder: { pid: killed.pid } })
    const records = audit().length

    const next = await runAction({ inputs: PROD, pm2Home: d.home, baseDir: d.dir })
    expect(next.outputs.result, next.stdout).toBe('deployed')
    expect(next.stdout).toMatch(
      new RegExp(`::warning::Took over a stale deploy lock .*: its holder is gone: acme/flyer-crawler / deploy / deploy \\(app flyer-crawler-test, run 9001 .*pid ${killed.pid} on `)
    )
    expect(fs.existsSync(lockFile)).toBe(false)
    expect(audit().slice(records)).toMatchObject([{ result: 'deployed', ownNames: ['flyer-crawler-api'] }])
  })

  test('a deploy waiting on a live lock gives up after lock-timeout-seconds, names the holder, changes nothing', async () => {
    const holder = await longDeployInVerify('9002')
    const untouched = (n: string) => n !== 'flyer-crawler-api-test'
    const before = d.fingerprint(untouched)
    const records = audit().length

    const waiter = await runAction({ inputs: { ...PROD, 'lock-timeout-seconds': '2' }, pm2Home: d.home, baseDir: d.dir })
    expect(waiter.outputs.result).toBe('aborted')
    expect(waiter.code).toBe(1)
    expect(waiter.stdout).toContain('Waiting for another deploy on this PM2 daemon to finish: acme/flyer-crawler / deploy / deploy (app flyer-crawler-test, run 9002')
    expect(waiter.stdout).toMatch(
      new RegExp(`::error.*Another deploy holds the lock on this PM2 daemon \\(${lockFile}\\): .*run 9002 .*pid ${holder.pid} on .*Gave up after lock-timeout-seconds \\(2 s\\); nothing was changed`)
    )
    noStack(waiter.stdout + waiter.stderr)
    expect(d.fingerprint(untouched)).toEqual(before)
    const report = JSON.parse(fs.readFileSync(waiter.outputs.report!, 'utf8'))
    expect(report.commands).toEqual([])
    expect(audit().slice(records)).toMatchObject([{ result: 'aborted', commands: [], ownNames: ['flyer-crawler-api'], message: expect.stringContaining('Gave up after') }])
    // The holder's lock is untouched and the holder still runs.
    expect(readLock(lockFile)).toMatchObject({ kind: 'held', holder: { pid: holder.pid } })
    expect(holder.child.exitCode).toBeNull()
    holder.child.kill('SIGTERM')
    expect((await holder.done).code).toBe(1)
  })

  test('SIGTERM (a cancelled job) releases the lock: while deploying, and while waiting for it', async () => {
    const run = await longDeployInVerify('9003')
    // A second deploy waits for it, then is cancelled with SIGINT: it had no lock to release.
    const waiting = startAction({ inputs: PROD, pm2Home: d.home, baseDir: d.dir, runId: '9004' })
    started.push(waiting)
    await waitFor('the second deploy to wait', () => waiting.stdout().includes('Waiting for another deploy'), waiting)
    const records = audit().length
    waiting.child.kill('SIGINT')
    const w = await waiting.done
    expect(w.code).toBe(1)
    expect(w.stdout).toContain('Deploy interrupted by SIGINT; no host lock was held. Nothing was changed.')
    expect(readLock(lockFile)).toMatchObject({ kind: 'held', holder: { pid: run.pid } })

    run.child.kill('SIGTERM')
    const r = await run.done
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Deploy interrupted by SIGTERM; the host lock was released. Check the processes: the deploy may be half done.')
    expect(fs.existsSync(lockFile)).toBe(false)
    // Both attempts are in the audit log.
    expect(audit().slice(records)).toMatchObject([
      { result: 'aborted', message: expect.stringContaining('interrupted by SIGINT before any change'), commands: [], metadata: { runId: '9004' } },
      {
        result: 'failed',
        message: expect.stringContaining('interrupted by SIGTERM after sending pm2 commands'),
        commands: [{ command: 'pm2 reload flyer-crawler-api-test --update-env', exitCode: 0 }],
        metadata: { runId: '9003' }
      }
    ])
    // The post step finds nothing to do; the next deploy runs at once, with no takeover.
    expect((await runPost(r, d.home)).stdout).toContain('already released')
    const next = await runAction({ inputs: PROD, pm2Home: d.home, baseDir: d.dir })
    expect(next.outputs.result, next.stdout).toBe('deployed')
    expect(next.stdout).not.toContain('Took over')
    expect(next.stdout).not.toContain('Waiting for another deploy')
  })
})

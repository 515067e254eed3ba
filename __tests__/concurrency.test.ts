// Promise 6 as a matrix sees it: several deploys of different apps and environments,
// started at once against one PM2 daemon, each with its own whitelist, beside a
// neighbour app nobody deploys. The host lock serialises them, so each one's
// before/after comparison only sees its own changes: no false SAFETY ABORT, every
// neighbour untouched, one audit record per deploy.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DEFAULT_AUDIT_FILE_NAME } from '../src/shell/audit.js'
import { acquireHostLock, LOCK_FILE_NAME } from '../src/shell/lock.js'
import { APPS, TestDaemon } from './helpers/daemon.js'
import { readAudit, startAction, waitFor, type StartedAction } from './helpers/lock-scenarios.js'
import { readAllFiles, runPost } from './helpers/run-action.js'

const SECRET = 's3cr3t-matrix-value-41d7c2'
const NEIGHBOUR_SECRET = 's3cr3t-neighbour-value-0b9a6e'

let d: TestDaemon
const running: StartedAction[] = []
afterAll(async () => {
  // A failed test must not leave deploys running against a daemon that is going away.
  for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM')
  await Promise.all(running.map((s) => s.done))
  d?.destroy()
})

const isNeighbour = (n: string) => n.startsWith('stock-alert')

describe('four matrix deploys on one daemon at once', () => {
  let workDir = ''
  beforeAll(async () => {
    d = TestDaemon.create('matrix')
    // The neighbour nobody deploys: a cluster app and a worker, with a secret in their env.
    d.start({ name: 'stock-alert-api', script: `${APPS}/http-server.cjs`, instances: 2, env: { PORT: '0', API_KEY: NEIGHBOUR_SECRET } })
    d.start({ name: 'stock-alert-worker', script: `${APPS}/idle.cjs`, env: { API_KEY: NEIGHBOUR_SECRET } })
    // app-a runs in production and test; its deploys reload what PM2 has, by name.
    for (const name of ['app-a-web', 'app-a-worker', 'app-a-web-test', 'app-a-worker-test']) d.start({ name, script: `${APPS}/idle.cjs` })
    // app-b runs in production and staging from an ecosystem file; staging is not started yet.
    d.start({ name: 'app-b-api', script: `${APPS}/idle.cjs` })
    workDir = path.join(d.dir, 'app-b')
    fs.mkdirSync(workDir)
    fs.writeFileSync(
      path.join(workDir, 'ecosystem.config.cjs'),
      `module.exports = { apps: [
  { name: 'app-b-api', script: ${JSON.stringify(`${APPS}/idle.cjs`)} },
  { name: 'app-b-api-staging', script: ${JSON.stringify(`${APPS}/idle.cjs`)} },
  { name: 'app-b-cron', script: ${JSON.stringify(`${APPS}/idle.cjs`)} }
] }\n`
    )
    await d.waitOnline()
  })

  test('all deploy, serialised by the host lock; no false SAFETY ABORT; neighbours untouched; four audit records', async () => {
    const neighbourBefore = d.fingerprint(isNeighbour)
    expect(Object.keys(neighbourBefore).sort()).toEqual(['stock-alert-api', 'stock-alert-worker'])
    const matrix: { job: string; inputs: Record<string, string>; own: string[] }[] = [
      { job: 'deploy-app-a-prod', inputs: { app: 'app-a', whitelist: 'app-a-web\napp-a-worker' }, own: ['app-a-web', 'app-a-worker'] },
      { job: 'deploy-app-a-test', inputs: { app: 'app-a', 'environment-suffix': '-test', whitelist: 'app-a-web, app-a-worker' }, own: ['app-a-web-test', 'app-a-worker-test'] },
      { job: 'deploy-app-b-prod', inputs: { app: 'app-b', whitelist: 'app-b-api', ecosystem: 'ecosystem.config.cjs' }, own: ['app-b-api'] },
      {
        job: 'deploy-app-b-staging',
        inputs: { app: 'app-b', 'environment-suffix': '-staging', whitelist: 'app-b-api', ecosystem: 'ecosystem.config.cjs' },
        own: ['app-b-api-staging']
      }
    ]

    // This test holds the lock first, so that all four are certainly waiting on one
    // another when it is released, whatever the machine's load.
    const gate = await acquireHostLock({
      pm2Home: d.home,
      holder: { repository: 'acme/gatekeeper', workflow: 'hold', runId: '1', runUrl: null, job: 'gate', app: 'gate', suffix: '', host: os.hostname() },
      timeoutSeconds: 0,
      log: { info: () => {}, warning: () => {} }
    })
    const started = matrix.map((m, i) =>
      startAction({
        inputs: { ...m.inputs, 'stable-seconds': '2', 'working-directory': workDir },
        pm2Home: d.home,
        baseDir: d.dir,
        runId: String(5000 + i),
        env: { GITHUB_JOB: m.job, DEPLOY_SECRET: SECRET }
      })
    )
    running.push(...started)
    try {
      for (const s of started) {
        await waitFor('every deploy to wait for the lock', () => /Waiting for another deploy on this PM2 daemon to finish: acme\/gatekeeper/.test(s.stdout()), s)
      }
    } finally {
      gate.release()
    }
    const runs = await Promise.all(started.map((s) => s.done))

    for (const [i, run] of runs.entries()) {
      expect(run.outputs.result, `${matrix[i]!.job}\n${run.stdout}\n${run.stderr}`).toBe('deployed')
      expect(run.code).toBe(0)
      expect(run.outputs.violations).toBe('0')
      expect(run.stdout).not.toContain('SAFETY ABORT')
      expect(JSON.parse(run.outputs['own-processes']!)).toEqual(matrix[i]!.own)
    }
    // Each deploy's lock was released at its end: none left, none taken over.
    expect(fs.existsSync(path.join(d.home, LOCK_FILE_NAME))).toBe(false)
    for (const run of runs) expect(run.stdout).not.toContain('Took over a stale deploy lock')

    // The neighbour: same pm_ids, pids, restart counts, statuses.
    expect(d.fingerprint(isNeighbour)).toEqual(neighbourBefore)
    // The other app in app-b's ecosystem file was not started.
    expect(d.jlistRaw().map((p) => p.name)).not.toContain('app-b-cron')
    expect(d.jlistRaw().filter((p) => p.name === 'app-b-api-staging').map((p) => p.pm2_env.status)).toEqual(['online'])

    // Exactly four well-formed records (each line parsed with the zod schema), one per deploy.
    const auditFile = path.join(d.home, DEFAULT_AUDIT_FILE_NAME)
    const records = readAudit(auditFile)
    expect(records).toHaveLength(4)
    expect(records.map((r) => r.metadata?.job).sort()).toEqual(matrix.map((m) => m.job).sort())
    for (const r of records) {
      const m = matrix.find((x) => x.job === r.metadata?.job)!
      expect(r).toMatchObject({ result: 'deployed', dryRun: false, ownNames: m.own, violations: [], app: m.inputs.app })
      expect(r.commands.length).toBeGreaterThan(0)
      expect(r.commands.every((c) => c.exitCode === 0)).toBe(true)
      expect(r.metadata).toMatchObject({ repository: 'acme/flyer-crawler', workflow: 'deploy' })
      expect(fs.existsSync(r.report!)).toBe(true)
    }
    // No environment value in the audit log, the lock or anything a run wrote.
    const audit = fs.readFileSync(auditFile, 'utf8')
    for (const secret of [SECRET, NEIGHBOUR_SECRET, 'github_tracking_id_test', 'runtime-token-value']) {
      expect(audit).not.toContain(secret)
      for (const run of runs) for (const { file, text } of readAllFiles(run.runnerDir)) expect(text, file).not.toContain(secret)
      for (const { file, text } of readAllFiles(path.join(d.home, 'pm2-safe-deploy'))) expect(text, file).not.toContain(secret)
    }

    // The post steps find nothing to release.
    for (const run of runs) {
      const post = await runPost(run, d.home)
      expect(post.code).toBe(0)
      expect(post.stdout).toContain('already released')
    }
  }, 300_000)
})

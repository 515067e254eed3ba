// Fixed DeployReport objects for the rendering tests: frozen timestamps, pids, hosts.
// Built the way main.ts builds a report (restore hints from restoreHints).
import type { ProcessRecord } from '../../src/shell/pm2/process-list.js'
import type { WorkflowMetadata } from '../../src/shell/metadata.js'
import { REPORT_SCHEMA_VERSION, restoreHints, type DeployReport } from '../../src/core/report.js'
import { processRecord } from './process-record.js'

export const STARTED_AT = '2026-02-17T07:40:00.000Z'
export const FINISHED_AT = '2026-02-17T07:40:14.250Z'
const T0 = Date.parse(STARTED_AT)
const HOUR = 3_600_000

export function proc(p: Partial<ProcessRecord> & Pick<ProcessRecord, 'pmId' | 'name'>): ProcessRecord {
  return processRecord({
    pid: 10_000 + p.pmId,
    startedAt: T0 - 26 * HOUR,
    script: `/var/www/${p.name}/current/server.js`,
    cwd: `/var/www/${p.name}/current`,
    outLog: `/home/deploy/.pm2/logs/${p.name}-out.log`,
    errLog: `/home/deploy/.pm2/logs/${p.name}-error.log`,
    memory: 52_428_800 + p.pmId * 1_048_576,
    cpu: 0.3,
    ...p
  })
}

export const METADATA: WorkflowMetadata = {
  platform: 'gitea',
  repository: 'acme/flyer-crawler',
  workflow: 'deploy-to-test.yml',
  workflowRef: null,
  workflowSha: null,
  workflowFile: '.gitea/workflows/deploy-to-test.yml',
  workflowFileSha256: '3f7a0c1d9e2b4a6f8c0e1d3b5a7c9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d',
  runId: '4711',
  runNumber: '215',
  runAttempt: '1',
  runUrl: 'https://git.example.com/acme/flyer-crawler/actions/runs/4711',
  job: 'deploy-to-test',
  event: 'push',
  ref: 'refs/heads/main',
  sha: '9c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d',
  actor: 'torben',
  runner: 'projectium-runner',
  runnerOs: 'Linux',
  host: 'projectium',
  user: 'gitea-runner',
  actionVersion: '0.1.0',
  nodeVersion: 'v24.4.1',
  pm2CliVersion: '7.0.4',
  pm2DaemonVersion: '7.0.4',
  pm2Home: '/home/gitea-runner/.pm2',
  pm2ReadPath: 'rpc'
}

const OWN = ['flyer-crawler-api-test', 'flyer-crawler-worker-test']

/** The host of the incident: production, a neighbour (clustered), a same-suffix neighbour, and the test env. */
function hostBefore(): ProcessRecord[] {
  return [
    proc({ pmId: 0, name: 'stock-alert-api', namespace: 'stock-alert', execMode: 'cluster', instances: 2, startedAt: T0 - 9 * 24 * HOUR }),
    proc({ pmId: 1, name: 'stock-alert-api', namespace: 'stock-alert', execMode: 'cluster', instances: 2, startedAt: T0 - 9 * 24 * HOUR }),
    proc({ pmId: 2, name: 'stock-alert-test', script: "/srv/stock alert's test/worker.py", cwd: "/srv/stock alert's test", interpreter: 'python3' }),
    proc({ pmId: 3, name: 'flyer-crawler-api', namespace: 'flyer-crawler' }),
    proc({ pmId: 4, name: 'flyer-crawler-worker', namespace: 'flyer-crawler' }),
    proc({ pmId: 5, name: 'flyer-crawler-api-test', startedAt: T0 - 3 * HOUR, restarts: 2 }),
    proc({ pmId: 6, name: 'flyer-crawler-worker-test', startedAt: T0 - 3 * HOUR })
  ]
}

function base(): Omit<DeployReport, 'result' | 'title' | 'message' | 'restore'> {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    release: null,
    app: 'flyer-crawler',
    environmentSuffix: '-test',
    strategy: 'reload',
    dryRun: false,
    ownNames: OWN,
    metadata: METADATA,
    plan: [
      {
        command: 'pm2 startOrReload ecosystem-test.config.cjs --only flyer-crawler-api-test,flyer-crawler-worker-test --update-env',
        why: 'strategy reload'
      }
    ],
    commands: [],
    checks: [],
    violations: [],
    warnings: [],
    processes: { before: hostBefore(), after: hostBefore() },
    snapshots: {
      before: '/home/gitea-runner/_work/_temp/pm2-safe-deploy-4711-1-deploy-to-test-before.json',
      after: '/home/gitea-runner/_work/_temp/pm2-safe-deploy-4711-1-deploy-to-test-after.json'
    },
    timings: {
      'Inputs and ownership': 212,
      'Workflow metadata': 388,
      'Host lock': 4,
      'PM2 state before': 19,
      'Plan and preflight': 7,
      Deploy: 1840,
      'Verify own processes': 10_950,
      'Isolation check': 15,
      Save: 402,
      total: 14_250
    },
    startedAt: STARTED_AT,
    finishedAt: FINISHED_AT
  }
}

function withRestore(r: Omit<DeployReport, 'restore'>): DeployReport {
  return {
    ...r,
    restore: restoreHints({
      result: r.result,
      ownNames: r.ownNames,
      before: r.processes.before,
      after: r.processes.after,
      afterListed: r.snapshots.after !== null,
      pm2Home: r.metadata?.pm2Home ?? null
    })
  }
}

/** A reload that went through: own processes have new pids, everyone else is untouched. */
export function deployedReport(): DeployReport {
  const b = base()
  const after = hostBefore().map((p) =>
    OWN.includes(p.name) ? { ...p, pid: p.pid + 500, startedAt: Date.parse(FINISHED_AT) - 12_000, memory: 41_943_040 } : p
  )
  return withRestore({
    ...b,
    result: 'deployed',
    title: '',
    message: '2 own process name(s) deployed and stable; other apps unchanged',
    processes: { before: b.processes.before, after },
    commands: [
      { command: b.plan[0]!.command, exitCode: 0, ms: 1830, messages: ['[PM2] Applying action reloadProcessId on app [flyer-crawler-api-test](ids: [ 5 ])'] },
      { command: 'pm2 save', exitCode: 0, ms: 398, messages: ['[PM2] Saving current process list...'] }
    ],
    checks: [
      { name: 'targets', ok: true, detail: 'every planned command reaches own processes only' },
      { name: 'preflight', ok: true, detail: 'scripts and cwd exist, interpreters fit' },
      { name: 'isolation after deploy', ok: true, detail: 'other apps unchanged' },
      { name: 'own processes healthy', ok: true, detail: '2 process(es) online, same pid and restarts for 10 s' },
      { name: 'isolation at the end', ok: true, detail: 'other apps unchanged' }
    ]
  })
}

/** Preflight refused a python script left to the node interpreter: nothing sent. */
export function preflightAbortReport(): DeployReport {
  const b = base()
  return withRestore({
    ...b,
    result: 'aborted',
    title: 'Preflight failed',
    message:
      'Preflight failed, nothing was changed:\n' +
      "- flyer-crawler-worker-test script /var/www/flyer-crawler-test/current/.venv/bin/uvicorn starts with a python shebang, but PM2 would run it with node: set `interpreter: 'none'` or the venv's python",
    checks: [
      { name: 'targets', ok: true, detail: 'every planned command reaches own processes only' },
      { name: 'preflight', ok: false, detail: 'flyer-crawler-worker-test script … starts with a python shebang' }
    ],
    timings: { 'Inputs and ownership': 230, 'Workflow metadata': 371, 'Host lock': 3, 'PM2 state before': 18, 'Plan and preflight': 9, total: 640 }
  })
}

/** `recreate` deleted own processes; the isolation check found a neighbour gone and prod stopped. */
export function safetyAbortReport(): DeployReport {
  const b = base()
  const after = hostBefore()
    .filter((p) => p.name !== 'stock-alert-api' && p.name !== 'stock-alert-test' && !OWN.includes(p.name))
    .map((p) => (p.name === 'flyer-crawler-worker' ? { ...p, status: 'stopped', pid: 0, memory: 0 } : p))
  const deleteCmd = 'pm2 delete flyer-crawler-api-test flyer-crawler-worker-test'
  return withRestore({
    ...b,
    strategy: 'recreate',
    result: 'failed',
    title: 'SAFETY ABORT',
    message:
      'SAFETY ABORT: other apps changed after cleanup: flyer-crawler-worker: pm_id 4 was online, now stopped; ' +
      'stock-alert-api: 2 process(es) before, 0 after; stock-alert-api: pm_id 0 was online, now gone; stock-alert-api: pm_id 1 was online, now gone; ' +
      'stock-alert-test: 1 process(es) before, 0 after; stock-alert-test: pm_id 2 was online, now gone',
    plan: [
      { command: deleteCmd, why: 'strategy recreate: start fresh' },
      { command: 'pm2 start ecosystem-test.config.cjs --only flyer-crawler-api-test,flyer-crawler-worker-test --update-env', why: 'strategy recreate' }
    ],
    commands: [{ command: deleteCmd, exitCode: 0, ms: 512, messages: ['[PM2] Applying action deleteProcessId on app [flyer-crawler-api-test](ids: [ 5 ])'] }],
    checks: [
      { name: 'targets', ok: true, detail: 'every planned command reaches own processes only' },
      { name: 'preflight', ok: true, detail: 'scripts and cwd exist, interpreters fit' },
      { name: 'isolation after cleanup', ok: false, detail: 'stock-alert-api: 2 process(es) before, 0 after; …' }
    ],
    violations: [
      { kind: 'went-offline', name: 'flyer-crawler-worker', detail: 'pm_id 4 was online, now stopped' },
      { kind: 'count-changed', name: 'stock-alert-api', detail: '2 process(es) before, 0 after' },
      { kind: 'went-offline', name: 'stock-alert-api', detail: 'pm_id 0 was online, now gone' },
      { kind: 'went-offline', name: 'stock-alert-api', detail: 'pm_id 1 was online, now gone' },
      { kind: 'count-changed', name: 'stock-alert-test', detail: '1 process(es) before, 0 after' },
      { kind: 'went-offline', name: 'stock-alert-test', detail: 'pm_id 2 was online, now gone' }
    ],
    processes: { before: b.processes.before, after },
    timings: { 'Inputs and ownership': 240, 'Workflow metadata': 402, 'Host lock': 5, 'PM2 state before': 21, 'Plan and preflight': 8, Deploy: 530, total: 1_320 }
  })
}

/** A release switch whose new release crash-looped: the link went back, the previous release verified serving. */
export function rolledBackReport(): DeployReport {
  const b = base()
  const link = '/var/www/flyer-crawler-test/current'
  const previous = '/var/www/flyer-crawler-test/releases/2026-02-16-1'
  const target = '/var/www/flyer-crawler-test/releases/2026-02-17-1'
  const after = hostBefore().map((p) => (OWN.includes(p.name) ? { ...p, pmId: p.pmId + 2, pid: p.pid + 900, startedAt: Date.parse(FINISHED_AT) - 6_000, restarts: 0 } : p))
  const reload = 'pm2 startOrReload /var/www/flyer-crawler-test/current/ecosystem-test.config.cjs --only flyer-crawler-api-test,flyer-crawler-worker-test --update-env'
  const errLog = '/home/gitea-runner/.pm2/logs/flyer-crawler-api-test-error.log'
  const cause = 'Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432'
  return withRestore({
    ...b,
    result: 'rolled-back',
    title: 'Rolled back: Deploy not healthy',
    message:
      'Own processes are not healthy: crash loop: flyer-crawler-api-test (pm_id 5) restarted 0.8 s after coming up (pid 10005 → 10911, restarts 2 → 3, now online)\n' +
      `Rolled back: ${link} names ${previous} again, and the previous release was verified serving.`,
    plan: [{ command: reload, why: 'strategy reload' }],
    commands: [
      { command: reload, exitCode: 0, ms: 1710, messages: ['[PM2] Applying action reloadProcessId on app [flyer-crawler-api-test](ids: [ 5 ])'] },
      { command: reload, exitCode: 0, ms: 1650, messages: ['[PM2] Applying action reloadProcessId on app [flyer-crawler-api-test](ids: [ 5 ])'] }
    ],
    checks: [
      { name: 'targets', ok: true, detail: 'every planned command reaches own processes only' },
      { name: 'preflight', ok: true, detail: 'scripts and cwd exist, interpreters fit' },
      { name: 'own processes healthy', ok: false, detail: 'crash loop: flyer-crawler-api-test (pm_id 5) restarted 0.8 s after coming up' },
      { name: 'previous release healthy', ok: true, detail: '2 process(es) online, same pid and restarts for 10 s' }
    ],
    processes: { before: b.processes.before, after },
    failing: [
      {
        name: 'flyer-crawler-api-test',
        cause,
        logs: [
          {
            stream: 'error',
            file: errLog,
            lines: [
              cause,
              '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)',
              '::add-mask::secret',
              '<img src=x onerror=alert(1)> | **not bold** ``` `not code`',
              cause,
              '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)'
            ]
          },
          { stream: 'out', file: '/home/gitea-runner/.pm2/logs/flyer-crawler-api-test-out.log', lines: ['flyer-crawler api listening on :3000', 'connecting to postgres://app:***@127.0.0.1:5432/flyer'] }
        ]
      }
    ],
    release: { link, target, previous, switched: true, rolledBack: true, live: previous, kind: 'deploy', downtime: [], swapped: [], pruned: [] },
    releases: [
      { path: previous, state: 'live', deployedAt: '2026-02-16T18:02:11.000Z', sha: '9e0b7a1c55d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6', runId: '1042', runUrl: 'https://gitea.example.com/projectium/flyer-crawler/actions/runs/1042' },
      { path: '/var/www/flyer-crawler-test/releases/2026-02-15-2', state: 'previous', deployedAt: '2026-02-15T09:40:00.000Z', sha: '1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e', runId: '1038', runUrl: null },
      { path: target, state: 'rolled back from', deployedAt: null, sha: null, runId: null, runUrl: null }
    ],
    timings: { 'Inputs and ownership': 215, 'Workflow metadata': 380, 'Host lock': 4, 'PM2 state before': 20, 'Plan and preflight': 8, 'Release switch': 2, Deploy: 1720, 'Verify own processes': 2310, Rollback: 12_400, total: 17_100 }
  })
}

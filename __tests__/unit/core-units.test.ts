// Unit tests of the pure core: inputs, ownership refusals, clean environment, PM2 JSON
// out of noisy stdout, the plan, and the isolation diff.
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { cleanEnvironment } from '../../src/shell/clean-env.js'
import { isRunDirName, runDirName, runsToRemove } from '../../src/core/retention.js'
import { parseInputs, InputError } from '../../src/shell/inputs.js'
import { checkIsolation } from '../../src/core/isolation.js'
import { collisionProblems, deriveOwnNames, OwnershipError } from '../../src/core/ownership.js'
import { commandArgs, planDeploy, PlanError } from '../../src/core/plan.js'
import { extractJsonArray, toProcessRecords, ProcessListError, type ProcessRecord } from '../../src/shell/pm2/process-list.js'
import { processRecord } from '../helpers/process-record.js'

const proc = (over: Partial<ProcessRecord> & { pmId: number; name: string }): ProcessRecord =>
  processRecord({ pid: 100 + over.pmId, startedAt: 1, script: `/srv/${over.name}.js`, cwd: '/srv', memory: 1, cpu: 0, ...over })

describe('inputs', () => {
  const base = { INPUT_APP: 'flyer-crawler', INPUT_WHITELIST: 'flyer-crawler-api', HOME: '/home/deploy' }

  test('defaults follow SPEC.md when the runner passes nothing', () => {
    const i = parseInputs(base)
    expect(i).toMatchObject({
      suffix: '',
      strategy: 'reload',
      stableSeconds: 10,
      timeoutSeconds: 120,
      foreignRestarts: 'fail',
      save: true,
      dryRun: false,
      pm2Path: 'pm2',
      pm2Home: '/home/deploy/.pm2',
      lockTimeoutSeconds: 300,
      auditLog: '/home/deploy/.pm2/pm2-safe-deploy.audit.jsonl',
      logLines: 50
    })
  })

  test('hyphenated names arrive as INPUT_ENVIRONMENT-SUFFIX; lists split on newlines and commas', () => {
    const i = parseInputs({ ...base, 'INPUT_ENVIRONMENT-SUFFIX': '-test', INPUT_WHITELIST: 'a-api,\n a-worker \n\n', 'INPUT_HEALTH-URL': 'http://127.0.0.1:1/x\nhttps://h/y' })
    expect(i.suffix).toBe('-test')
    expect(i.whitelist).toEqual(['a-api', 'a-worker'])
    expect(i.healthUrls).toEqual(['http://127.0.0.1:1/x', 'https://h/y'])
  })

  test("snapshot-dir defaults to <pm2-home>/pm2-safe-deploy/runs, never RUNNER_TEMP; a set one resolves against the workspace", () => {
    const i = parseInputs({ ...base, RUNNER_TEMP: '/runner/_temp' })
    expect(i).toMatchObject({ snapshotDir: '/home/deploy/.pm2/pm2-safe-deploy/runs', snapshotDirIsDefault: true })
    const j = parseInputs({ ...base, GITHUB_WORKSPACE: '/work/ws', 'INPUT_SNAPSHOT-DIR': 'records' })
    expect(j).toMatchObject({ snapshotDir: '/work/ws/records', snapshotDirIsDefault: false })
  })

  test('a stability window that cannot fit in the timeout is refused with the fix', () => {
    expect(() => parseInputs({ ...base, 'INPUT_STABLE-SECONDS': '120', 'INPUT_TIMEOUT-SECONDS': '120' })).toThrowError(
      /stable-seconds \(120\) must be less than timeout-seconds \(120\).*`timeout-seconds: 180`/
    )
    expect(parseInputs({ ...base, 'INPUT_STABLE-SECONDS': '0', 'INPUT_TIMEOUT-SECONDS': '1' }).stableSeconds).toBe(0)
  })

  test('PM2_HOME falls back to $PM2_HOME; audit-log off disables it', () => {
    const i = parseInputs({ ...base, PM2_HOME: '/var/pm2', 'INPUT_AUDIT-LOG': 'off' })
    expect(i.pm2Home).toBe('/var/pm2')
    expect(i.auditLog).toBeNull()
  })

  test('every bad input is named with what to write instead, all at once', () => {
    expect(() =>
      parseInputs({ ...base, INPUT_STRATEGY: 'bounce', 'INPUT_STABLE-SECONDS': 'ten', 'INPUT_DRY-RUN': 'maybe', 'INPUT_HEALTH-URL': 'localhost:3000' })
    ).toThrowError(InputError)
    try {
      parseInputs({ ...base, INPUT_STRATEGY: 'bounce', 'INPUT_STABLE-SECONDS': 'ten', 'INPUT_DRY-RUN': 'maybe' })
    } catch (err) {
      const m = (err as Error).message
      expect(m).toMatch(/strategy must be reload, restart or recreate/)
      expect(m).toMatch(/stable-seconds must be a number/)
      expect(m).toMatch(/dry-run must be true or false/)
    }
    expect(() => parseInputs({ HOME: '/h' })).toThrowError(/app is required/)
  })
})

describe('ownership', () => {
  const own = (whitelist: string[], suffix = '-test') => deriveOwnNames({ app: 'flyer-crawler', suffix, whitelist })

  test('own names are whitelist + suffix, in order', () => {
    expect(own(['flyer-crawler-api', 'flyer-crawler-worker'])).toEqual(['flyer-crawler-api-test', 'flyer-crawler-worker-test'])
    expect(own(['flyer-crawler-api'], '')).toEqual(['flyer-crawler-api'])
  })

  test.each([
    [['flyer-crawler-api-test'], /drop the suffix/],
    [['all'], /does not start with the app/],
    [['/api/'], /contains "\/"/],
    [['default'], /does not start with the app/],
    [['flyer-crawler api'], /white space/],
    [['flyer-crawler.json'], /config file/],
    [['flyer-crawler-api', 'flyer-crawler-api'], /listed twice/],
    [[], /Neither `whitelist` nor `ecosystem`/]
  ])('refuses %j with a message that says what to change', (whitelist, message) => {
    expect(() => own(whitelist)).toThrowError(message)
    expect(() => own(whitelist)).toThrowError(OwnershipError)
  })

  test('app "all", numeric names and names that look like numbers to PM2 are refused', () => {
    expect(() => deriveOwnNames({ app: 'all', suffix: '', whitelist: ['all'] })).toThrowError(/every process/)
    expect(() => deriveOwnNames({ app: '1', suffix: '', whitelist: ['1'] })).toThrowError(/numeric/)
    expect(() => deriveOwnNames({ app: '0x', suffix: '', whitelist: ['0x1'] })).toThrowError(/numeric/)
    expect(() => deriveOwnNames({ app: 'default', suffix: '', whitelist: [], ecosystemAppNames: ['default'] })).not.toThrow()
  })

  test('an own name equal to a foreign namespace is refused; the ecosystem file names own apps', () => {
    const names = deriveOwnNames({ app: 'api', suffix: '', whitelist: [], ecosystemAppNames: ['api', 'api-worker'] })
    expect(names).toEqual(['api', 'api-worker'])
    const list = [proc({ pmId: 0, name: 'legacy', namespace: 'api' })]
    expect(collisionProblems(names, list).join()).toMatch(/"api" is also the namespace of legacy/)
    expect(collisionProblems(names, [proc({ pmId: 0, name: 'api', namespace: 'api' })])).toEqual([])
  })
})

describe('clean environment for pm2 (promise 7)', () => {
  test('drops the runner variables and PM2 overrides, keeps the user step env', () => {
    const env = cleanEnvironment(
      {
        PATH: '/usr/bin',
        RUNNER_TRACKING_ID: 'github_1',
        INPUT_APP: 'x',
        'INPUT_PM2-HOME': '/h',
        STATE_lock: 'a',
        ACTIONS_RUNTIME_TOKEN: 't',
        ACTIONS_ID_TOKEN_REQUEST_URL: 'u',
        GITHUB_TOKEN: 'ght',
        GITHUB_OUTPUT: '/o',
        GITHUB_STATE: '/s',
        GITHUB_STEP_SUMMARY: '/ss',
        GITHUB_ENV: '/e',
        GITHUB_PATH: '/p',
        GITHUB_SHA: 'abc',
        name: 'evil',
        namespace: 'all',
        pm_id: '0',
        DATABASE_URL: 'postgres://user',
        RUNNER_TEMP: '/tmp/r'
      },
      '/home/deploy/.pm2'
    )
    expect(env).toEqual({
      PATH: '/usr/bin',
      GITHUB_SHA: 'abc',
      DATABASE_URL: 'postgres://user',
      RUNNER_TEMP: '/tmp/r',
      PM2_HOME: '/home/deploy/.pm2'
    })
  })

  test("every forge's per-step files and tokens go (GITHUB_, GITEA_, FORGEJO_); their plain metadata stays", () => {
    const forges = ['GITHUB_', 'GITEA_', 'FORGEJO_']
    const dropped = ['OUTPUT', 'STATE', 'STEP_SUMMARY', 'ENV', 'PATH', 'EVENT_PATH', 'TOKEN', 'RUNNER_REGISTRATION_TOKEN']
    const kept = ['SHA', 'REPOSITORY', 'RUN_ID', 'SERVER_URL', 'WORKSPACE', 'ACTIONS', 'ACTIONS_RUNNER_VERSION', 'REF_NAME']
    const input: Record<string, string> = { TOKEN: 'the user step env', MY_TOKEN: 'also the user', GITEAX_TOKEN: 'not a forge prefix' }
    for (const f of forges) for (const n of [...dropped, ...kept]) input[f + n] = `${f}${n}-value`
    const env = cleanEnvironment(input, '/h')
    for (const f of forges) {
      for (const n of dropped) expect(env, f + n).not.toHaveProperty(f + n)
      for (const n of kept) expect(env[f + n], f + n).toBe(`${f}${n}-value`)
    }
    expect(env).toMatchObject({ TOKEN: 'the user step env', MY_TOKEN: 'also the user', GITEAX_TOKEN: 'not a forge prefix' })
  })
})

describe('run retention (the newest 100 runs of the default snapshot dir)', () => {
  const at = (i: number) => runDirName(new Date(Date.UTC(2026, 0, 1, 0, 0, i)), `run-${i}`)

  test('run directory names sort by their start time and are recognised', () => {
    expect(at(5)).toMatch(/^20260101T000005000Z-run-5$/)
    expect(isRunDirName(at(5))).toBe(true)
    expect(isRunDirName('notes.txt')).toBe(false)
    expect(runDirName(new Date(0), 'a b/c')).toBe('19700101T000000000Z-a_b_c')
  })

  test('keeps the newest, removes the oldest, never the current run or a name it did not make', () => {
    const names = Array.from({ length: 105 }, (_, i) => at(i))
    const removed = runsToRemove([...names, 'README', 'manual-backup'], at(104), 100)
    expect(removed.sort()).toEqual(names.slice(0, 5).sort())
    // A current run older than the newest 100 (the clock went back) stays and counts among them.
    const old = runsToRemove(names, at(0), 100)
    expect(old).not.toContain(at(0))
    expect(old).toHaveLength(5)
    expect(runsToRemove(names.slice(0, 3), at(2), 100)).toEqual([])
  })

  test('property: exactly max(0, runs - keep) go, the current never, and the kept are the newest', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 60 }), fc.nat(70), fc.nat(59), (secs, keep, pick) => {
        const names = secs.map(at)
        const current = names[pick % names.length]!
        const removed = runsToRemove(names, current, keep)
        expect(removed).not.toContain(current)
        expect(removed).toHaveLength(Math.max(0, names.length - Math.max(keep, 1)))
        const kept = names.filter((n) => !removed.includes(n) && n !== current).sort()
        for (const r of removed) for (const k of kept) expect(r < k).toBe(true)
      })
    )
  })
})

describe("PM2's JSON", () => {
  const list = JSON.stringify([{ pm_id: 0, name: 'a', pid: 5, pm2_env: { status: 'online', restart_time: 2, namespace: 'default', SECRET: 's3', env: { SECRET: 's3' } }, monit: { memory: 10, cpu: 1 } }])

  test('is taken out of banners, spawn lines and update notices', () => {
    const noisy = `>>>> In-memory PM2 is out-of-date, do:\n>>>> $ pm2 update\n[PM2] Spawning PM2 daemon with pm2_home=/x\n[PM2] PM2 Successfully daemonized\n${list}\n\n`
    expect(toProcessRecords(extractJsonArray(noisy))[0]).toMatchObject({ name: 'a', pid: 5, restarts: 2, status: 'online' })
    expect(toProcessRecords(extractJsonArray(`[PM2] banner [1, 2\n${list}bye [`))[0]).toMatchObject({ name: 'a' })
    expect(extractJsonArray('[PM2] no processes\n[]\n')).toEqual([])
    expect(() => extractJsonArray('garbage only\n[not json')).toThrowError(ProcessListError)
    // The error never quotes the output: it would carry every app's environment.
    expect(() => extractJsonArray('{"env":{"SECRET":"s3"}} [')).toThrowError(/^(?!.*s3)/)
  })

  test('records keep a fixed set of fields and never the environment', () => {
    const rec = toProcessRecords(JSON.parse(list))[0]!
    expect(JSON.stringify(rec)).not.toMatch(/s3|SECRET/)
    expect(Object.keys(rec).sort()).toMatchInlineSnapshot(`
      [
        "cpu",
        "cwd",
        "errLog",
        "execMode",
        "instances",
        "interpreter",
        "memory",
        "name",
        "namespace",
        "outLog",
        "pid",
        "pmId",
        "restarts",
        "script",
        "startedAt",
        "status",
        "unstableRestarts",
      ]
    `)
  })

  test('an unexpected shape is a clear error', () => {
    expect(() => toProcessRecords([{ name: 'x' }])).toThrowError(/unexpected shape/)
    expect(() => toProcessRecords({ not: 'a list' })).toThrowError(ProcessListError)
  })
})

describe('plan', () => {
  const list = [
    proc({ pmId: 0, name: 'app-api-test' }),
    proc({ pmId: 1, name: 'app-api-test' }),
    proc({ pmId: 2, name: 'app-worker-test', status: 'errored' }),
    proc({ pmId: 3, name: 'other' })
  ]
  const own = ['app-api-test', 'app-worker-test']

  test('without an ecosystem: restart down processes, reload the rest one by one', () => {
    const plan = planDeploy({ ownNames: own, processes: list, strategy: 'reload', ecosystem: null, ecosystemEnv: null, save: true })
    expect(plan.map(commandArgs)).toEqual([
      ['restart', 'app-worker-test', '--update-env'],
      ['reload', 'app-api-test', '--update-env']
    ])
  })

  test('without an ecosystem: a missing own name or recreate is an error', () => {
    expect(() => planDeploy({ ownNames: [...own, 'app-x-test'], processes: list, strategy: 'restart', ecosystem: null, ecosystemEnv: null, save: true })).toThrowError(/no process named "app-x-test"/)
    expect(() => planDeploy({ ownNames: own, processes: list, strategy: 'recreate', ecosystem: null, ecosystemEnv: null, save: true })).toThrowError(PlanError)
  })

  test('with an ecosystem: delete the down ones, then startOrReload --only own names', () => {
    const plan = planDeploy({ ownNames: own, processes: list, strategy: 'reload', ecosystem: '/srv/eco.config.js', ecosystemEnv: 'production', save: true })
    expect(plan.map(commandArgs)).toEqual([
      ['delete', 'app-worker-test'],
      ['startOrReload', '/srv/eco.config.js', '--only', 'app-api-test,app-worker-test', '--env', 'production', '--update-env']
    ])
    const recreate = planDeploy({ ownNames: own, processes: list, strategy: 'recreate', ecosystem: '/srv/eco.config.js', ecosystemEnv: null, save: true })
    expect(recreate.map(commandArgs)).toEqual([
      ['delete', 'app-api-test', 'app-worker-test'],
      ['start', '/srv/eco.config.js', '--only', 'app-api-test,app-worker-test', '--update-env']
    ])
  })
})

describe('isolation check', () => {
  const own = new Set(['mine'])
  const before = [proc({ pmId: 0, name: 'mine' }), proc({ pmId: 1, name: 'n' }), proc({ pmId: 2, name: 'n' }), proc({ pmId: 3, name: 'm', status: 'stopped', pid: 0 })]

  test('own processes may change freely; unchanged neighbours pass', () => {
    const after = [proc({ pmId: 0, name: 'mine', pid: 999, restarts: 5 }), ...before.slice(1)]
    expect(checkIsolation(before, after, own, 'fail')).toEqual({ violations: [], warnings: [] })
  })

  test('a neighbour gone, offline or restarted is a violation; restarts only warn with foreign-restarts: warn', () => {
    const after = [before[0]!, proc({ pmId: 1, name: 'n', status: 'stopped' }), proc({ pmId: 2, name: 'n', pid: 555, restarts: 1 })]
    const r = checkIsolation(before, after, own, 'fail')
    expect(r.violations.map((v) => `${v.kind}:${v.name}`)).toEqual(['count-changed:m', 'went-offline:n', 'restarted:n'])
    const w = checkIsolation(before, after, own, 'warn')
    expect(w.violations.map((v) => v.kind)).toEqual(['count-changed', 'went-offline'])
    expect(w.warnings.map((v) => v.kind)).toEqual(['restarted'])
  })

  test('a new process under a neighbour name changes its count', () => {
    const after = [...before, proc({ pmId: 9, name: 'n' })]
    expect(checkIsolation(before, after, own, 'fail').violations[0]).toMatchObject({ kind: 'count-changed', name: 'n' })
  })
})

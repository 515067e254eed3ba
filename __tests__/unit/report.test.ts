// What a person reads of a deploy: the job summary, the log verdict, the annotation and
// the restore hint, rendered from fixed reports (pure: no daemon, no clock).
import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  ARGS_NOT_RECORDED,
  DeployReportSchema,
  renderAnnotation,
  renderLogVerdict,
  renderSummary,
  restoreHints,
  hintAction,
  DAEMON_GONE_TITLE,
  daemonGoneMessage,
  verdictHeadline,
  nextSteps,
  shellCommand,
  shellQuote,
  type DeployReport
} from '../../src/core/report.js'
import { deployedReport, preflightAbortReport, proc, rolledBackReport, safetyAbortReport } from '../helpers/report-fixtures.js'

const CASES: [string, () => DeployReport][] = [
  ['deployed', deployedReport],
  ['preflight-abort', preflightAbortReport],
  ['safety-abort', safetyAbortReport],
  ['rolled-back', rolledBackReport]
]

describe.each(CASES)('%s report', (label, make) => {
  test('is valid against the report schema', () => {
    const parsed = DeployReportSchema.safeParse(make())
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
  })

  test('job summary matches its snapshot', async () => {
    await expect(renderSummary(make())).toMatchFileSnapshot(`../__snapshots__/report/${label}.summary.md`)
  })

  test('log verdict matches its snapshot', async () => {
    await expect(renderLogVerdict(make())).toMatchFileSnapshot(`../__snapshots__/report/${label}.log.txt`)
  })

  test('rendering is a pure function of the report', () => {
    expect(renderSummary(make())).toBe(renderSummary(make()))
    expect(renderLogVerdict(make())).toBe(renderLogVerdict(make()))
  })
})

describe('the verdict comes first', () => {
  test.each([
    [deployedReport, /^## ✅ Deployed flyer-crawler-test\n/],
    [preflightAbortReport, /^## ⛔ Aborted, nothing changed: Preflight failed \(flyer-crawler-test\)\n/],
    [safetyAbortReport, /^## 🛑 SAFETY ABORT: other apps changed during the deploy of flyer-crawler-test\n/]
  ])('summary headline %#', (make, headline) => {
    expect(renderSummary(make())).toMatch(headline)
  })

  test('a SAFETY ABORT names each neighbour that changed and how, before any process table', () => {
    const summary = renderSummary(safetyAbortReport())
    const changedAt = summary.indexOf('### Other apps that changed')
    const ownAt = summary.indexOf('### Own processes')
    expect(changedAt).toBeGreaterThan(0)
    expect(changedAt).toBeLessThan(ownAt)
    expect(summary).toMatch(/\| `stock-alert-api` \| count-changed \| 2 process\(es\) before, 0 after \|/)
    expect(summary).toMatch(/\| `flyer-crawler-worker` \| went-offline \| pm_id 4 was online, now stopped \|/)
    const log = renderLogVerdict(safetyAbortReport())
    expect(log.split('\n')[0]).toContain('SAFETY ABORT')
    expect(log).toContain('! stock-alert-api: count-changed: 2 process(es) before, 0 after')
  })

  test('the log carries the same tables as the summary', () => {
    const log = renderLogVerdict(deployedReport())
    expect(log).toMatch(/Own processes, before → after:\n\s+name\s+pm_id\s+status\s+pid\s+restarts\s+uptime\s+memory/)
    expect(log).toMatch(/flyer-crawler-api-test\s+5\s+online → online\s+10005 → 10505\s+2 → 2\s+3h → 12s\s+55\.0 MB → 40\.0 MB/)
    expect(log).toMatch(/stock-alert-api\s+stock-alert\s+2 → 2\s+2 online → 2 online/)
    expect(log).toContain('Commands sent:')
    expect(log).toMatch(/Timings: .*Deploy 1\.8 s.*total 14\.3 s/)
  })

  test('no environment value can reach the summary: it renders only fixed fields', () => {
    const r = deployedReport()
    // A report never has env; a stray field would not be rendered either.
    const polluted = { ...r, processes: { ...r.processes, after: r.processes.after.map((p) => ({ ...p, env: { DB_PASSWORD: 'hunter2' } })) } }
    expect(renderSummary(polluted as DeployReport)).not.toContain('hunter2')
    expect(renderLogVerdict(polluted as DeployReport)).not.toContain('hunter2')
  })
})

describe('annotation', () => {
  test('none for a success', () => {
    expect(renderAnnotation(deployedReport())).toBeNull()
  })

  test('an abort has a title, the cause and what to do', () => {
    const a = renderAnnotation(preflightAbortReport())!
    expect(a.title).toBe('pm2-safe-deploy: Preflight failed')
    expect(a.message).toMatch(/^Preflight failed, nothing was changed/)
    expect(a.message).toMatch(/What to do: Nothing was changed by this job/)
  })

  test('a SAFETY ABORT carries the restore commands', () => {
    const a = renderAnnotation(safetyAbortReport())!
    expect(a.title).toBe('pm2-safe-deploy: SAFETY ABORT')
    expect(a.message).toMatch(/^SAFETY ABORT: /)
    expect(a.message).toContain("PM2_HOME=/home/gitea-runner/.pm2 pm2 start /var/www/stock-alert-api/current/server.js --name stock-alert-api")
  })
})

describe('restore hint', () => {
  const own = ['app-a-test']
  const input = (before: ReturnType<typeof proc>[], after: ReturnType<typeof proc>[], extra: Partial<Parameters<typeof restoreHints>[0]> = {}) => ({
    result: 'failed' as const,
    ownNames: own,
    before,
    after,
    afterListed: true,
    pm2Home: '/home/deploy/.pm2',
    ...extra
  })

  test('none on success or dry run, none when nothing is missing', () => {
    const before = [proc({ pmId: 0, name: 'stock-alert' })]
    expect(restoreHints(input(before, [], { result: 'deployed' }))).toEqual([])
    expect(restoreHints(input(before, [], { result: 'dry-run' }))).toEqual([])
    expect(restoreHints(input(before, before))).toEqual([])
  })

  test('a missing cluster app: start with name, namespace, cwd, interpreter and instances from the snapshot', () => {
    const before = [0, 1, 2].map((i) =>
      proc({ pmId: i, name: 'stock-alert', namespace: 'stocks', execMode: 'cluster', instances: 3, script: '/srv/stock/app.js', cwd: '/srv/stock' })
    )
    const [h] = restoreHints(input(before, []))
    expect(h).toMatchObject({ kind: 'start', name: 'stock-alert', namespace: 'stocks', missing: 3, before: 3 })
    expect(h!.argv).toEqual(['pm2', 'start', '/srv/stock/app.js', '--name', 'stock-alert', '--namespace', 'stocks', '--cwd', '/srv/stock', '--interpreter', 'node', '-i', '3'])
    expect(h!.command).toBe('PM2_HOME=/home/deploy/.pm2 pm2 start /srv/stock/app.js --name stock-alert --namespace stocks --cwd /srv/stock --interpreter node -i 3')
    expect(h!.caveats).toContain(ARGS_NOT_RECORDED)
  })

  test('args and env are never in the hint, and the hint says so', () => {
    const [h] = restoreHints(input([proc({ pmId: 0, name: 'n' })], []))
    expect(h!.caveats.join(' ')).toMatch(/Arguments and environment variables are not recorded/)
    expect(h!.argv).not.toContain('--')
  })

  test('a python app in fork mode keeps its interpreter; two fork processes get -x -i 2', () => {
    const py = proc({ pmId: 0, name: 'worker', script: '/srv/w/worker.py', cwd: '/srv/w', interpreter: 'python3' })
    expect(restoreHints(input([py], []))[0]!.argv).toEqual(['pm2', 'start', '/srv/w/worker.py', '--name', 'worker', '--cwd', '/srv/w', '--interpreter', 'python3'])
    const two = [0, 1].map((i) => proc({ pmId: i, name: 'w2', script: '/srv/w2.js', cwd: '/srv' }))
    expect(restoreHints(input(two, []))[0]!.argv!.slice(-3)).toEqual(['-x', '-i', '2'])
  })

  test('paths are quoted for a POSIX shell', () => {
    const p = proc({ pmId: 0, name: 'odd', script: "/srv/it's here/$(rm -rf ~)/app.js", cwd: '/srv/a b;c' })
    const [h] = restoreHints(input([p], [], { pm2Home: '/home/x y/.pm2' }))
    expect(h!.command).toBe(
      `PM2_HOME='/home/x y/.pm2' pm2 start '/srv/it'\\''s here/$(rm -rf ~)/app.js' --name odd --cwd '/srv/a b;c' --interpreter node`
    )
  })

  test('some processes of a name gone: pm2 scale back to the count before', () => {
    const before = [0, 1].map((i) => proc({ pmId: i, name: 'api', execMode: 'cluster', instances: 2 }))
    const [h] = restoreHints(input(before, [before[0]!]))
    expect(h).toMatchObject({ kind: 'scale', missing: 1, argv: ['pm2', 'scale', 'api', '2'] })
  })

  test('a stopped neighbour that PM2 still lists: restart by name, only when the name reaches it alone', () => {
    const before = [proc({ pmId: 0, name: 'mail' }), proc({ pmId: 1, name: 'other', namespace: 'mail' })]
    const after = [{ ...before[0]!, status: 'stopped' }, before[1]!]
    expect(restoreHints(input(before, after))[0]).toMatchObject({ kind: 'restart', argv: ['pm2', 'restart', 'mail'] })
    // A name PM2 would read as a regex gets no one-line command.
    const rx = [proc({ pmId: 0, name: '/mail/' }), proc({ pmId: 1, name: 'mailer' })]
    const [h] = restoreHints(input(rx, [{ ...rx[0]!, status: 'stopped' }, rx[1]!]))
    expect(h).toMatchObject({ kind: 'restart', argv: null, command: null })
    expect(h!.caveats[0]).toMatch(/regex target/)
  })

  test('own processes never get a hint', () => {
    expect(restoreHints(input([proc({ pmId: 0, name: 'app-a-test' })], []))).toEqual([])
  })

  test('when the list at the end could not be read, the hint says to check first', () => {
    const [h] = restoreHints(input([proc({ pmId: 0, name: 'n' })], [], { afterListed: false }))
    expect(h!.caveats.join(' ')).toMatch(/could not be read/)
  })

  describe('with a saved dump (pm2 resurrect)', () => {
    const dump = { file: '/home/deploy/.pm2/dump.pm2', savedAt: '2026-11-20T10:00:00.000Z', names: ['stock-alert', 'mailer', 'app-a-test'] }
    const before = [proc({ pmId: 0, name: 'stock-alert' }), proc({ pmId: 1, name: 'mailer' }), proc({ pmId: 2, name: 'ledger' }), proc({ pmId: 3, name: 'app-a-test' })]

    test('names the dump holds get one `pm2 resurrect`, saying what it would start and when the dump was saved', () => {
      const after = [proc({ pmId: 1, name: 'mailer' }), proc({ pmId: 4, name: 'app-a-test' })]
      const hints = restoreHints(input(before, after, { dump }))
      expect(hints.map((h) => h.kind)).toEqual(['resurrect', 'start'])
      const [r, start] = hints
      expect(r).toMatchObject({ name: 'stock-alert', argv: ['pm2', 'resurrect'], command: 'PM2_HOME=/home/deploy/.pm2 pm2 resurrect', wouldStart: ['stock-alert'], dumpSavedAt: dump.savedAt })
      expect(r!.caveats[0]).toContain('saved 2026-11-20T10:00:00.000Z')
      // A name not in the dump keeps the rebuilt `pm2 start`.
      expect(start).toMatchObject({ kind: 'start', name: 'ledger' })
      expect(hintAction(r!)).toMatch(/pm2 resurrect.*saved 2026-11-20T10:00:00\.000Z.*stock-alert/)
    })

    test('it also says which names it would start that this deploy did not lose', () => {
      const hints = restoreHints(input(before, [proc({ pmId: 1, name: 'mailer' })], { dump }))
      expect(hints[0]).toMatchObject({ kind: 'resurrect', wouldStart: ['stock-alert', 'app-a-test'] })
      expect(hints[0]!.caveats.join(' ')).toMatch(/That includes app-a-test, which this deploy did not lose/)
    })

    test('names still listed (stopped, scaled down) are not for resurrect, which skips running names', () => {
      const after = [proc({ pmId: 0, name: 'stock-alert', status: 'stopped' }), proc({ pmId: 1, name: 'mailer' }), proc({ pmId: 2, name: 'ledger' }), proc({ pmId: 3, name: 'app-a-test' })]
      expect(restoreHints(input(before, after, { dump })).map((h) => h.kind)).toEqual(['restart'])
    })

    test('the daemon gone: only `pm2 resurrect` (never a command that starts an empty daemon), or no command without a dump', () => {
      const [h] = restoreHints(input(before, [], { dump, daemonGone: true, afterListed: false }))
      expect(h).toMatchObject({ kind: 'resurrect', command: 'PM2_HOME=/home/deploy/.pm2 pm2 resurrect', wouldStart: dump.names })
      expect(h!.caveats.join(' ')).toMatch(/orphans/)
      const none = restoreHints(input(before, [], { dump: null, daemonGone: true, afterListed: false }))
      expect(none).toHaveLength(1)
      expect(none[0]).toMatchObject({ kind: 'resurrect', argv: null, command: null })
      expect(none[0]!.caveats[0]).toMatch(/no saved process list/)
    })
  })
})

describe('shellQuote', () => {
  test('safe words stay bare, others are single-quoted', () => {
    expect(shellQuote('/var/www/app-1/server.js')).toBe('/var/www/app-1/server.js')
    expect(shellQuote('')).toBe("''")
    expect(shellQuote('a b')).toBe("'a b'")
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(shellQuote('a\nb')).toBe("$'a\\x0ab'")
  })

  // bash reads back exactly the argument array: no word splits, nothing expands or runs.
  test('bash reads every quoted word back unchanged', () => {
    const word = fc.string({ unit: fc.constantFrom(...'ab /\'"$`\\!*?~#;&|<>(){}[]\n\t\u001b-=%é'.split('')), maxLength: 24 })
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 4 }), (words) => {
        const out = execFileSync('bash', ['--norc', '--noprofile', '-c', `printf '%s\\0' ${shellCommand(words)}`], { encoding: 'utf8' })
        expect(out.split('\0').slice(0, -1)).toEqual(words)
      }),
      { numRuns: 150 }
    )
  })
})

describe('the PM2 daemon gone', () => {
  test('other apps that went down with it are no SAFETY ABORT, and own processes are not blamed', () => {
    const report = { ...safetyAbortReport(), title: DAEMON_GONE_TITLE, message: daemonGoneMessage('/home/deploy/.pm2', 2) }
    expect(report.violations.length).toBeGreaterThan(0)
    expect(verdictHeadline(report)).toEqual({ icon: '❌', text: expect.stringMatching(/^Failed: PM2 daemon gone/) })
    const steps = nextSteps(report).join(' ')
    expect(steps).toMatch(/The PM2 daemon is gone, with every process it ran/)
    expect(steps).not.toMatch(/find who changed them|Own processes were changed/)
    expect(report.message).toMatch(/^The PM2 daemon at \/home\/deploy\/\.pm2 is gone: .*after 2 pm2 command\(s\).*`pm2 resurrect`/)
  })
})

describe('the releases table (promise 16)', () => {
  const withReleases = (paths: string[]): DeployReport => ({
    ...rolledBackReport(),
    releases: paths.map((p, i) => ({ path: p, state: i === 0 ? 'live' : null, deployedAt: null, sha: null, runId: null, runUrl: null }))
  })

  test('summary and log list every kept release, newest first, and how to make one live', () => {
    const r = rolledBackReport()
    const summary = renderSummary(r)
    expect(summary).toMatch(/### Releases on this host \(3\), newest first\n\n\| release \| state \| deployed \| commit \| run \|/)
    expect(summary).toContain('| `/var/www/flyer-crawler-test/releases/2026-02-15-2` | previous | 2026-02-15T09:40:00.000Z | 1d2e3f4a5b6c | 1038 |')
    const log = renderLogVerdict(r)
    expect(log).toMatch(/Releases on this host \(3\), newest first:\n\s+release\s+state/)
    expect(log).toContain('not in the audit log')
  })

  test('absent without current-link', () => {
    expect(renderSummary(deployedReport())).not.toContain('Releases on this host')
    expect(renderLogVerdict(deployedReport())).not.toContain('Releases on this host')
  })

  test('property: a release path never adds a table row or column, nor a workflow command in the log', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 4 }), (names) => {
        const paths = names.map((n) => `/srv/app/releases/${n}`)
        const report = withReleases(paths)
        const table = renderSummary(report).split('### Releases on this host')[1]!.split('\n\n')[1]!.split('\n')
        expect(table.length).toBe(2 + paths.length)
        for (const line of table) expect(line.replace(/\\\|/g, '').split('|').length).toBe(7)
        for (const line of renderLogVerdict(report).split('\n')) expect(line).not.toMatch(/^::/)
      })
    )
  })
})

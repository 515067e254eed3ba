// The report, summary, log verdict, annotation and restore hint of real runs: the bundled
// action against a real PM2 daemon on a private PM2_HOME, as a runner runs it.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DeployReportSchema, type DeployReport } from '../src/core/report-schema.js'
import { APPS, PM2_BIN, TestDaemon } from './helpers/daemon.js'
import { runAction, type ActionRun } from './helpers/run-action.js'

let d: TestDaemon
beforeAll(async () => {
  d = TestDaemon.create('report')
  // The neighbour: clustered, in its own namespace, with its own cwd.
  fs.mkdirSync(path.join(d.dir, 'stock alert'))
  d.start({ name: 'stock-alert', script: `${APPS}/idle.cjs`, namespace: 'stocks', instances: 2, cwd: path.join(d.dir, 'stock alert') })
  d.start({ name: 'stock-alert-test', script: `${APPS}/idle.cjs` })
  await d.waitOnline()
})
afterAll(() => d?.destroy())

function ecosystem(file: string, apps: object[]): string {
  const full = path.join(d.dir, file)
  fs.writeFileSync(full, `module.exports = ${JSON.stringify({ apps }, null, 2)}\n`)
  return file
}

function readReport(run: ActionRun): DeployReport {
  expect(run.outputs.report, run.stdout).toBeTruthy()
  const raw: unknown = JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))
  const parsed = DeployReportSchema.safeParse(raw)
  expect(parsed.success, JSON.stringify(parsed.error?.issues, null, 2)).toBe(true)
  return parsed.data!
}

describe('a successful deploy', () => {
  let run: ActionRun
  beforeAll(async () => {
    const eco = ecosystem('shop-test.config.cjs', [{ name: 'shop-api-test', script: `${APPS}/idle.cjs` }])
    run = await runAction({
      inputs: { app: 'shop', 'environment-suffix': '-test', ecosystem: eco, 'working-directory': d.dir },
      pm2Home: d.home,
      baseDir: d.dir
    })
  })

  test('its report validates against the documented schema', () => {
    expect(run.outputs.result, run.stdout).toBe('deployed')
    const report = readReport(run)
    expect(report).toMatchObject({ schemaVersion: 1, result: 'deployed', title: '', restore: [], ownNames: ['shop-api-test'] })
    expect(report.metadata?.repository).toBe('acme/flyer-crawler')
    expect(Object.keys(report.timings)).toContain('total')
  })

  test('the job summary leads with the verdict and has both tables', () => {
    expect(run.summary).toMatch(/^## ✅ Deployed shop-test\n/)
    expect(run.summary).toMatch(/\| `shop-api-test` \| \d+ \| – → online \|/)
    expect(run.summary).toMatch(/\| `stock-alert` \| `stocks` \| 2 → 2 \| 2 online → 2 online \| unchanged \|/)
    expect(run.summary).toContain('### Commands sent')
    expect(run.summary).toContain('### Timings')
  })

  test('the log carries the same verdict and tables', () => {
    expect(run.stdout).toContain('==== pm2-safe-deploy: ✅ Deployed shop-test [deployed] ====')
    expect(run.stdout).toMatch(/Own processes, before → after:\n\s+name\s+pm_id\s+status/)
    expect(run.stdout).toMatch(/stock-alert\s+stocks\s+2 → 2\s+2 online → 2 online/)
    expect(run.stdout).not.toMatch(/::error/)
  })
})

test('an own app whose start script deletes a neighbour: SAFETY ABORT, and the restore hint brings it back', async () => {
  const marker = path.join(d.dir, 'rogue-ran')
  const eco = ecosystem('rogue-test.config.cjs', [
    {
      name: 'shop-rogue-test',
      script: `${APPS}/rogue-cleanup.cjs`,
      env: { ROGUE_PM2_BIN: PM2_BIN, ROGUE_TARGET: 'stock-alert', ROGUE_MARKER: marker }
    }
  ])
  const neighbourBefore = d.jlistRaw().filter((p) => p.name === 'stock-alert')
  expect(neighbourBefore).toHaveLength(2)
  // No saved process list: the hint is a `pm2 start` rebuilt from the snapshot (with a dump it is `pm2 resurrect`: restore.test.ts).
  fs.rmSync(path.join(d.home, 'dump.pm2'), { force: true })
  const run = await runAction({
    inputs: { app: 'shop', 'environment-suffix': '-test', ecosystem: eco, 'working-directory': d.dir, 'stable-seconds': '4' },
    pm2Home: d.home,
    baseDir: d.dir
  })
  expect(fs.existsSync(marker)).toBe(true)
  expect(run.code).toBe(1)
  expect(run.outputs.result, run.stdout).toBe('failed')
  expect(Number(run.outputs.violations)).toBeGreaterThan(0)

  const report = readReport(run)
  expect(report.message).toMatch(/^SAFETY ABORT: .*stock-alert: 2 process\(es\) before, 0 after/)
  expect(report.title).toBe('SAFETY ABORT')
  expect(report.restore).toHaveLength(1)
  const hint = report.restore[0]!
  expect(hint).toMatchObject({ kind: 'start', name: 'stock-alert', namespace: 'stocks', missing: 2, execMode: 'cluster', cwd: path.join(d.dir, 'stock alert') })
  expect(hint.caveats.join(' ')).toMatch(/not recorded/)
  // Quoted for a shell: the cwd has a space.
  expect(hint.command).toContain(`--cwd '${path.join(d.dir, 'stock alert')}'`)
  expect(hint.command).toMatch(/^PM2_HOME=\S+ pm2 start /)

  // Summary, log and annotation all say it, with the same command.
  expect(run.summary).toMatch(/^## 🛑 SAFETY ABORT: other apps changed during the deploy of shop-test\n/)
  expect(run.summary).toContain('### Restore the other apps')
  expect(run.summary).toContain(hint.command!)
  expect(run.stdout).toContain('==== pm2-safe-deploy: 🛑 SAFETY ABORT')
  expect(run.stdout).toContain(`    ${hint.command}`)
  expect(run.stdout).toMatch(/::error title=pm2-safe-deploy%3A SAFETY ABORT::SAFETY ABORT: .*%0ARestore:%0A {2}PM2_HOME=/)

  // The hint's command, run as its argument array, brings the neighbour back as it was.
  d.pm2(hint.argv!.slice(1), {}, fs.mkdtempSync(path.join(d.dir, 'elsewhere-')))
  await d.waitOnline()
  const back = d.jlistRaw().filter((p) => p.name === 'stock-alert')
  expect(back).toHaveLength(2)
  for (const p of back) {
    expect(p.pm2_env.namespace).toBe('stocks')
    expect(p.pm2_env.exec_mode).toBe('cluster_mode')
    expect(p.pm2_env.pm_cwd).toBe(path.join(d.dir, 'stock alert'))
    expect(p.pm2_env.pm_exec_path).toBe(neighbourBefore[0]!.pm2_env.pm_exec_path)
  }
})

test('invalid inputs still give a report that validates (no metadata, no processes)', async () => {
  const run = await runAction({ inputs: { app: '' }, pm2Home: d.home, baseDir: d.dir })
  expect(run.outputs.result).toBe('aborted')
  const report = readReport(run)
  expect(report).toMatchObject({ result: 'aborted', metadata: null, restore: [], processes: { before: [], after: [] } })
  // Kept on the host beside the audit log (snapshot-dir's default), not in RUNNER_TEMP, which the runner deletes.
  expect(path.dirname(path.dirname(run.outputs.report!))).toBe(path.join(d.home, 'pm2-safe-deploy', 'runs'))
  expect(fs.existsSync(run.outputs.report!)).toBe(true)
  expect(run.summary).toMatch(/^## ⛔ Aborted, nothing changed/)
  expect(run.summary).toContain("Not read: the action stopped before it read PM2's process list.")
  expect(run.stdout).toMatch(/::error title=pm2-safe-deploy%3A /)
})

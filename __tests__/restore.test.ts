// Restore hints as a responder uses them, and failures that are not the own processes'
// fault (issue 13): `pm2 resurrect` when PM2's saved dump holds the lost names, the PM2
// daemon gone mid-deploy named as such (no hint that would start an empty daemon), and
// inputs that cannot work together refused before any change. Real daemon, bundled dist/.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import type { DeployReport } from '../src/core/report-schema.js'
import { LOCK_FILE_NAME } from '../src/shell/lock.js'
import { APPS, daemonsForThisFile, PM2_BIN, type TestDaemon } from './helpers/daemon.js'
import { startAction, stopStarted, waitFor, type StartedAction } from './helpers/lock-scenarios.js'
import { runAction, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()
const started: StartedAction[] = []
afterEach(() => stopStarted(started))

const readReport = (run: ActionRun) => JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8')) as DeployReport
const ARGS = ['--port', '4100', '--name with space']

/** A host with a neighbour started with arguments (which no snapshot records) and an own app. */
async function host(label: string): Promise<TestDaemon> {
  const d = newDaemon(label)
  d.start({ name: 'stock-alert', script: `${APPS}/idle.cjs`, namespace: 'stocks', args: ARGS })
  d.start({ name: 'shop-api-test', script: `${APPS}/idle.cjs` })
  await d.waitOnline()
  return d
}

describe('restore hints prefer `pm2 resurrect` when the saved dump holds the lost names', () => {
  test('the hint names what it would start and when the dump was saved; run as given, the neighbour is back with its args', async () => {
    const d = await host('resurrect')
    d.pm2(['-s', 'save'])
    const savedAt = fs.statSync(path.join(d.home, 'dump.pm2')).mtime.toISOString()
    const marker = path.join(d.dir, 'rogue-ran')
    const eco = path.join(d.dir, 'rogue.config.cjs')
    const rogue = { name: 'shop-rogue-test', script: `${APPS}/rogue-cleanup.cjs`, env: { ROGUE_PM2_BIN: PM2_BIN, ROGUE_TARGET: 'stock-alert', ROGUE_MARKER: marker } }
    fs.writeFileSync(eco, `module.exports = ${JSON.stringify({ apps: [rogue] })}\n`)
    const run = await runAction({ inputs: { app: 'shop', 'environment-suffix': '-test', ecosystem: eco, 'stable-seconds': '3' }, pm2Home: d.home, baseDir: d.dir })
    expect(run.outputs.result, run.stdout).toBe('failed')
    expect(d.jlistRaw().some((p) => p.name === 'stock-alert')).toBe(false)

    const report = readReport(run)
    expect(report.restore).toHaveLength(1)
    const hint = report.restore[0]!
    // Only the lost neighbour: the own rogue app was not in the dump, shop-api-test still runs.
    expect(hint).toMatchObject({ kind: 'resurrect', name: 'stock-alert', argv: ['pm2', 'resurrect'], wouldStart: ['stock-alert'], dumpSavedAt: savedAt })
    expect(hint.command).toBe(`PM2_HOME=${d.home} pm2 resurrect`)
    expect(hint.caveats.join(' ')).toContain(`saved ${savedAt}`)
    expect(run.summary).toContain(hint.command!)
    expect(run.stdout).toContain(`    ${hint.command}`)
    // The report and logs never carry the dump's env.
    expect(JSON.stringify(report)).not.toContain('ROGUE_PM2_BIN')

    d.pm2(hint.argv!.slice(1), {}, fs.mkdtempSync(path.join(d.dir, 'elsewhere-')))
    await d.waitOnline()
    const back = d.jlistRaw().filter((p) => p.name === 'stock-alert')
    expect(back).toHaveLength(1)
    expect(back[0]!.pm2_env.namespace).toBe('stocks')
    expect(back[0]!.pm2_env.args).toEqual(ARGS)
  })
})

describe('the PM2 daemon gone mid-deploy', () => {
  test('is named as such: no blame on own processes, no hint that starts an empty daemon, and no daemon started', async () => {
    const d = await host('gone')
    d.pm2(['-s', 'save'])
    const s = startAction({ inputs: { app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api', 'stable-seconds': '60', 'timeout-seconds': '120' }, pm2Home: d.home, baseDir: d.dir, runId: '9101' })
    started.push(s)
    await waitFor('the deploy to reach verification', () => s.stdout().includes('::group::Verify own processes'), s)
    d.kill()
    const run = await s.done
    expect(run.code).toBe(1)
    expect(run.outputs.result, run.stdout).toBe('failed')
    const report = readReport(run)
    expect(report.title).toBe('PM2 daemon gone')
    expect(report.message).toMatch(new RegExp(`^The PM2 daemon at ${d.home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is gone`))
    expect(report.message).toContain('not a fault of the own processes')
    expect(report.message).not.toMatch(/went down|now stopping|Unexpected error/)
    // The only command offered is `pm2 resurrect` (the saved host), never `pm2 start`/`restart`.
    const commands = report.restore.map((h) => h.command).filter(Boolean)
    expect(commands).toEqual([`PM2_HOME=${d.home} pm2 resurrect`])
    expect(run.stdout).not.toMatch(/pm2 (start|restart|scale) /)
    expect(run.stdout).toContain('==== pm2-safe-deploy: ❌ Failed: PM2 daemon gone')
    expect(run.stdout).not.toMatch(/Own processes were changed and are not healthy/)
    expect(run.stdout).toContain('The PM2 daemon is gone, with every process it ran')
    // The action started no daemon and left no lock.
    expect(fs.existsSync(path.join(d.home, 'pm2.pid'))).toBe(false)
    expect(fs.existsSync(path.join(d.home, LOCK_FILE_NAME))).toBe(false)
    // The hint, run as given, brings the saved host back.
    d.pm2(report.restore[0]!.argv!.slice(1))
    await d.waitOnline()
    expect(d.jlistRaw().find((p) => p.name === 'stock-alert')?.pm2_env.args).toEqual(ARGS)
  })
})

describe('inputs that cannot work together are refused before any change, with the fix', () => {
  const cases: [string, (d: TestDaemon) => Record<string, string>, RegExp][] = [
    ['stable-seconds ≥ timeout-seconds', () => ({ 'stable-seconds': '130', 'timeout-seconds': '120' }), /stable-seconds \(130\) must be less than timeout-seconds \(120\).*Raise timeout-seconds \(e\.g\. `timeout-seconds: 190`\)/],
    ['stable-seconds = timeout-seconds', () => ({ 'stable-seconds': '30', 'timeout-seconds': '30' }), /stable-seconds \(30\) must be less than timeout-seconds \(30\)/],
    [
      'snapshot-dir that is a file',
      (d) => {
        const file = path.join(d.dir, 'snapshots.txt')
        fs.writeFileSync(file, 'not a dir')
        return { 'snapshot-dir': file }
      },
      /snapshot-dir: .*snapshots\.txt is a file, not a directory\. Point snapshot-dir at a directory, or leave it empty/
    ],
    [
      'snapshot-dir under a file',
      (d) => {
        fs.writeFileSync(path.join(d.dir, 'blocker'), '')
        return { 'snapshot-dir': path.join(d.dir, 'blocker', 'runs') }
      },
      /snapshot-dir: .*blocker \(in its path\) is a file, not a directory/
    ]
  ]
  let d: TestDaemon
  test.each(cases)('%s', async (_label, inputs, message) => {
    d ??= await host('inputs')
    const before = d.fingerprint()
    const run = await runAction({ inputs: { app: 'shop', 'environment-suffix': '-test', whitelist: 'shop-api', ...inputs(d) }, pm2Home: d.home, baseDir: d.dir })
    expect(run.code).toBe(1)
    expect(run.outputs.result, run.stdout).toBe('aborted')
    expect(run.stdout).toMatch(message)
    expect(run.stdout + run.stderr).not.toMatch(/Unexpected error|\n\s+at /)
    expect(d.fingerprint()).toEqual(before)
    expect(fs.existsSync(path.join(d.home, LOCK_FILE_NAME))).toBe(false)
  })
})

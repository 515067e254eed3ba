// Promise 16 through the bundled action, as a runner runs it, on a real daemon: three healthy
// releases in turn, then `rollback-to: previous` walking back, a named directory, the refusals
// (missing directory, input conflicts, a link switched by hand, nothing left), a rollback to a
// release that no longer starts, and the releases table listing what is on disk.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { DeployReport } from '../src/core/report-schema.js'
import { APPS, daemonsForThisFile, type TestDaemon } from './helpers/daemon.js'
import { freePort, probe, until } from './helpers/load.js'
import { expectAborted, runAction, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()
const report = (run: ActionRun): DeployReport => JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))

/** releases/<name>: the HTTP app answering its release name, fork mode, `cwd: __dirname`. */
function writeRelease(root: string, name: string, port: number): string {
  const dir = path.join(root, 'releases', name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'server.js'), fs.readFileSync(path.join(APPS, 'http-server.cjs'), 'utf8'))
  fs.writeFileSync(
    path.join(dir, 'ecosystem.config.js'),
    `module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, kill_timeout: 3000, env: { PORT: '${port}', RELEASE: '${name}' } }] }\n`
  )
  return fs.realpathSync(dir)
}

function run(d: TestDaemon, root: string, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    inputs: {
      app: 'web',
      'environment-suffix': '-test',
      whitelist: '',
      ecosystem: 'ecosystem.config.js',
      'current-link': path.join(root, 'current'),
      'stable-seconds': '2',
      'timeout-seconds': '60',
      ...inputs
    },
    pm2Home: d.home,
    baseDir: d.dir,
    timeoutMs: 110_000
  })
}

const deploy = (d: TestDaemon, root: string, name: string) => run(d, root, { 'release-dir': path.join(root, 'releases', name) })
const rollbackTo = (d: TestDaemon, root: string, to: string, more: Record<string, string> = {}) => run(d, root, { 'rollback-to': to, ...more })
const realCwds = (d: TestDaemon) => d.jlistRaw().filter((p) => p.name === 'web-test').map((p) => fs.readlinkSync(`/proc/${p.pid}/cwd`))
const lastAudit = (d: TestDaemon) => JSON.parse(fs.readFileSync(path.join(d.home, 'pm2-safe-deploy.audit.jsonl'), 'utf8').trim().split('\n').at(-1)!)
const onDisk = (root: string) => fs.readdirSync(path.join(root, 'releases')).map((n) => path.join(root, 'releases', n)).sort()

describe('rollback on demand behind `current`', () => {
  let d: TestDaemon
  let root: string
  let port: number
  const rel = (n: number) => path.join(root, 'releases', `r${n}`)
  const live = () => fs.realpathSync(path.join(root, 'current'))
  const answers = (name: string) => until(`${name} answering`, async () => ((await probe(port)) === name ? name : null))

  beforeAll(async () => {
    d = newDaemon('rollback-to')
    root = fs.realpathSync(d.dir)
    port = await freePort()
    d.start({ name: 'neighbour-api', script: `${APPS}/idle.cjs` })
    for (const n of [1, 2, 3]) {
      writeRelease(root, `r${n}`, port)
      const r = await deploy(d, root, `r${n}`)
      expect(r.outputs.result, r.stdout).toBe('deployed')
    }
  })

  test('rollback-to: previous makes r2 live, verified, its processes running from it; prepare and migrate are not run; the table shows r1 next', async () => {
    const neighbour = d.fingerprint((n) => n === 'neighbour-api')
    const r = await rollbackTo(d, root, 'previous', { prepare: 'touch prepared', migrate: 'touch migrated' })
    expect(r.outputs.result, r.stdout).toBe('deployed')
    expect(live()).toBe(rel(2))
    expect(r.outputs.release).toBe(rel(2))
    expect(realCwds(d)).toEqual([rel(2)])
    expect(await answers('r2')).toBe('r2')
    expect(r.stdout).toContain('`prepare` and `migrate` not run: rollback-to returns to a release that was live before')
    expect(fs.existsSync(path.join(rel(2), 'prepared'))).toBe(false)
    expect(r.stdout).toContain('keep-releases: nothing removed on a rollback on demand')
    expect(d.fingerprint((n) => n === 'neighbour-api')).toEqual(neighbour)
    const rep = report(r)
    expect(rep.release).toMatchObject({ kind: 'rollback-to', previous: rel(3), target: rel(2), live: rel(2), switched: true, rolledBack: false })
    expect(rep.message).toContain(`Rollback on demand: ${rel(3)} → ${rel(2)}`)
    expect(rep.checks.some((c) => c.ok)).toBe(true)
    expect(lastAudit(d).release).toMatchObject({ kind: 'rollback-to', previous: rel(3), target: rel(2) })
    expect(rep.releases!.map((x) => [x.path, x.state])).toEqual([
      [rel(2), 'live'],
      [rel(3), 'rolled back from'],
      [rel(1), 'previous']
    ])
    // The commit and run are those of the deploy that brought r2, not of this rollback's run.
    expect(rep.releases![0]!.runId).not.toBe(rep.metadata!.runId)
    expect(rep.releases![0]!.runId).not.toBeNull()
    expect(r.summary).toMatch(/### Releases on this host \(3\), newest first/)
    expect(r.stdout).toMatch(/Releases on this host \(3\), newest first:\n\s+release\s+state\s+deployed\s+commit\s+run/)
    expect(r.summary).toMatch(/Rolled back on demand/)
  })

  test('again: r3, rolled back from, is skipped, r1 goes live; then there is none left: aborted naming what the audit log holds', async () => {
    const r = await rollbackTo(d, root, 'previous')
    expect(r.outputs.result, r.stdout).toBe('deployed')
    expect(live()).toBe(rel(1))
    expect(realCwds(d)).toEqual([rel(1)])
    const none = await rollbackTo(d, root, 'previous')
    expectAborted(none, /No release to roll back to/)
    expect(none.stdout).toContain('no earlier release can be made live: the audit log holds')
    expect(none.stdout).toContain(`${rel(3)} (rolled back from at`)
    expect(live()).toBe(rel(1))
    // The table is there on a refusal too.
    expect(report(none).releases!.map((x) => x.path).sort()).toEqual(onDisk(root))
  })

  test('a named release directory works; the live one or a missing one is refused, the link untouched', async () => {
    const r = await rollbackTo(d, root, rel(3))
    expect(r.outputs.result, r.stdout).toBe('deployed')
    expect(live()).toBe(rel(3))
    expect(realCwds(d)).toEqual([rel(3)])
    expect(await answers('r3')).toBe('r3')
    const missing = await rollbackTo(d, root, path.join(root, 'releases', 'r9'))
    expectAborted(missing, /rollback-to: .*r9 does not exist or is not a directory/)
    const same = await rollbackTo(d, root, rel(3))
    expectAborted(same, /is the live release already/)
    const through = await rollbackTo(d, root, path.join(root, 'current'))
    expectAborted(through, /rollback-to: .* goes through current-link/)
    expect(live()).toBe(rel(3))
  })

  test('the input conflicts are refused before anything changes', async () => {
    const before = d.fingerprint()
    expectAborted(await rollbackTo(d, root, 'previous', { 'release-dir': rel(2) }), /rollback-to and release-dir are both set/)
    expectAborted(await rollbackTo(d, root, 'previous', { 'current-link': '' }), /rollback-to needs current-link/)
    const upload = await rollbackTo(d, root, 'previous', { 'ssh-host': 'deploy@127.0.0.1:1', upload: root, 'ssh-known-hosts': '[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' })
    expect(upload.outputs.result, upload.stdout).toBe('aborted')
    expect(upload.stdout).toMatch(/upload and rollback-to are both set/)
    expect(d.fingerprint()).toEqual(before)
    expect(live()).toBe(rel(3))
  })

  test('a link switched by hand is refused for `previous`, naming both releases', async () => {
    fs.symlinkSync(rel(2), path.join(root, 'current.tmp'))
    fs.renameSync(path.join(root, 'current.tmp'), path.join(root, 'current'))
    try {
      const r = await rollbackTo(d, root, 'previous')
      expectAborted(r, /Live release switched by hand/)
      expect(r.stdout).toContain(`current-link names ${rel(2)}, but the audit log's last run left ${rel(3)} live`)
    } finally {
      fs.symlinkSync(rel(3), path.join(root, 'current.tmp'))
      fs.renameSync(path.join(root, 'current.tmp'), path.join(root, 'current'))
    }
  })

  test('a rollback to a release that no longer starts ends rolled-back on the release that was live', async () => {
    fs.writeFileSync(path.join(rel(1), 'server.js'), 'setTimeout(() => process.exit(3), 500)\n')
    const r = await rollbackTo(d, root, rel(1))
    expect(r.outputs.result, r.stdout).toBe('rolled-back')
    expect(r.code).toBe(1)
    expect(live()).toBe(rel(3))
    expect(realCwds(d)).toEqual([rel(3)])
    expect(await answers('r3')).toBe('r3')
    const rep = report(r)
    expect(rep.release).toMatchObject({ kind: 'rollback-to', previous: rel(3), target: rel(1), live: rel(3), switched: true, rolledBack: true })
    expect(r.summary).toMatch(/Rollback on demand failed/)
    const r1 = rep.releases!.find((x) => x.path === rel(1))!
    expect(r1.state).toBe('rolled back from')
  })

  test('the releases table lists what is on disk, newest first, with the commit and run of each', async () => {
    fs.rmSync(rel(2), { recursive: true })
    writeRelease(root, 'r5', port)
    const r = await deploy(d, root, 'r5')
    expect(r.outputs.result, r.stdout).toBe('deployed')
    const rows = report(r).releases!
    expect(rows.map((x) => x.path).sort()).toEqual(onDisk(root))
    expect(rows[0]).toMatchObject({ path: rel(5), state: 'live', runId: report(r).metadata!.runId })
    expect(rows.map((x) => x.state)).toEqual(['live', 'previous', 'rolled back from'])
    expect(rows[1]!.path).toBe(rel(3))
    for (const x of rows) expect(r.summary).toContain(x.path)
  })
})

// Promise 16 on a fleet (promise 13), through the bundled action on three real sshd hosts on
// loopback: `rollback-to: previous` travels as a forwarded input, each host resolves it from its
// own audit log, and the hosts roll back one at a time with the same all-or-nothing as a deploy.
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import { APPS } from './helpers/daemon.js'
import { freePort, probe, until } from './helpers/load.js'
import { runAction, type ActionRun } from './helpers/run-action.js'
import { sshHostsForThisFile, sshHostsUnavailable, webInputs, type TestHost } from './helpers/sshd.js'

const unavailable = sshHostsUnavailable()
if (unavailable && process.env.CI === 'true') throw new Error(`Under CI the fleet tests must run, but: ${unavailable}`)
if (unavailable) console.warn(`Skipping the fleet rollback-to test: ${unavailable}`)

const newHosts = sshHostsForThisFile()

function writeRelease(host: TestHost, name: string, port: number): void {
  const rel = `apps/web/releases/${name}`
  host.writeFile(`${rel}/server.js`, fs.readFileSync(path.join(APPS, 'http-server.cjs'), 'utf8'))
  host.writeFile(`${rel}/ecosystem.config.js`, `module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, env: { PORT: '${port}', RELEASE: '${name}' } }] }\n`)
}

const releaseOn = (host: TestHost, name: string) => path.join(host.home, 'apps/web/releases', name)
const live = (host: TestHost) => fs.realpathSync(path.join(host.home, 'apps/web/current'))

test.skipIf(unavailable)('a fleet of three rolls back together, each host to the previous release its own audit log names', async () => {
  const h = await newHosts(3)
  const hosts = h.hosts
  const ports = [await freePort(), await freePort(), await freePort()]
  hosts.forEach((host, i) => ['v1', 'v2', 'v3'].forEach((r) => writeRelease(host, r, ports[i]!)))
  const fleet = (lines: string[], extra: Record<string, string>): Promise<ActionRun> =>
    runAction({
      inputs: webInputs(h, lines.join('\n'), null, extra),
      pm2Home: path.join(h.dir, 'runner-pm2'),
      baseDir: path.join(h.dir, 'runner'),
      timeoutMs: 170_000,
      post: true
    })
  const all = hosts.map((x) => x.label)
  for (const r of ['v1', 'v2']) {
    const run = await fleet(all, { 'release-dir': `~/apps/web/releases/${r}` })
    expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
  }
  // The third host alone goes on to v3: its `previous` is v2, the others' v1.
  const third = await fleet([hosts[2]!.label], { 'release-dir': '~/apps/web/releases/v3' })
  expect(third.outputs.result, third.stdout + third.stderr).toBe('deployed')

  const run = await fleet(all, { 'rollback-to': 'previous', 'hosts-per-batch': '3' })
  expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
  const out = JSON.parse(run.outputs.hosts!) as Record<string, { result: string; release: string; previous: string; report: string }>
  const want = ['v1', 'v1', 'v2']
  hosts.forEach((host, i) => {
    expect(out[host.label]).toMatchObject({ result: 'deployed', release: releaseOn(host, want[i]!), previous: releaseOn(host, i === 2 ? 'v3' : 'v2') })
    expect(live(host)).toBe(releaseOn(host, want[i]!))
    const report = JSON.parse(fs.readFileSync(out[host.label]!.report, 'utf8'))
    expect(report.release).toMatchObject({ kind: 'rollback-to', target: releaseOn(host, want[i]!) })
    expect(report.releases.find((x: { state: string }) => x.state === 'live').path).toBe(releaseOn(host, want[i]!))
    expect(run.summary).toContain(`### Host \`${host.label}\`: deployed`)
  })
  for (let i = 0; i < 3; i++) expect(await until(`host ${i + 1} answers ${want[i]}`, async () => ((await probe(ports[i]!)) === want[i] ? want[i] : null))).toBe(want[i])
  expect(run.summary).toMatch(/Releases on this host \(3\), newest first/)

  // All or nothing: v3 named on every host crash-loops on the second; the first is switched back to v1
  // by the fleet (its rollback-to is not forwarded again), the third is never contacted.
  const [a, b, c] = hosts as [TestHost, TestHost, TestHost]
  b.writeFile('apps/web/releases/v3/server.js', 'setTimeout(() => process.exit(3), 300)\n')
  const bad = await fleet(all, { 'rollback-to': '~/apps/web/releases/v3' })
  expect(bad.outputs.result, bad.stdout + bad.stderr).toBe('rolled-back')
  const badOut = JSON.parse(bad.outputs.hosts!) as Record<string, { result: string }>
  expect([a, b, c].map((x) => badOut[x.label]!.result)).toEqual(['rolled-back', 'rolled-back', 'aborted'])
  expect([a, b, c].map(live)).toEqual([releaseOn(a, 'v1'), releaseOn(b, 'v1'), releaseOn(c, 'v2')])
  expect(await until('host 1 answers v1', async () => ((await probe(ports[0]!)) === 'v1' ? 'v1' : null))).toBe('v1')
}, 400_000)

// Promise 13 in batches, through the bundled action as a runner runs it, on four real sshd hosts
// on loopback (helpers/sshd.ts: each host its own user, HOME, PM2_HOME and daemon). The order in
// time is read from the hosts' own reports (startedAt, finishedAt), never from the runner's clock.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { APPS } from './helpers/daemon.js'
import { freePort, probe, until } from './helpers/load.js'
import { startAction } from './helpers/lock-scenarios.js'
import { endJob, runAction, runPost, type ActionRun } from './helpers/run-action.js'
import { sshHostsForThisFile, sshHostsUnavailable, webInputs, type SshHosts, type TestHost } from './helpers/sshd.js'

const unavailable = sshHostsUnavailable()
if (unavailable && process.env.CI === 'true') throw new Error(`Under CI the fleet tests must run, but: ${unavailable}`)
if (unavailable) console.warn(`Skipping the fleet batch tests: ${unavailable}`)

const newHosts = sshHostsForThisFile()

/** ~/apps/web/releases/<name> on a host: the HTTP app on that host's own port; `crash` exits 0.3 s after start. */
function writeRelease(host: TestHost, name: string, port: number, crash = false): void {
  const rel = `apps/web/releases/${name}`
  const server = fs.readFileSync(path.join(APPS, 'http-server.cjs'), 'utf8')
  host.writeFile(`${rel}/server.js`, `${crash ? 'setTimeout(() => process.exit(3), 300)\n' : ''}${server}`)
  host.writeFile(`${rel}/ecosystem.config.js`, `module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, env: { PORT: '${port}', RELEASE: '${name}' } }] }\n`)
}

const releaseOn = (host: TestHost, name: string) => path.join(host.home, 'apps/web/releases', name)
const live = (host: TestHost) => {
  try {
    return fs.realpathSync(path.join(host.home, 'apps/web/current'))
  } catch {
    return null
  }
}
const auditLines = (host: TestHost): { result: string; message: string }[] => {
  try {
    return fs.readFileSync(path.join(host.pm2Home, 'pm2-safe-deploy.audit.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  } catch {
    return []
  }
}
const footprint = (host: TestHost) => ({ link: live(host), audit: auditLines(host).length, lock: fs.existsSync(path.join(host.pm2Home, 'pm2-safe-deploy.lock')), pids: host.jlist().map((p) => p.pid) })

interface HostsOutput {
  [label: string]: { result: string; release: string | null; previous: string | null; report: string | null }
}

/** When a host's run started and ended, as the host's own report says. */
function span(report: string): { start: number; end: number } {
  const r = JSON.parse(fs.readFileSync(report, 'utf8')) as { startedAt: string; finishedAt: string }
  return { start: Date.parse(r.startedAt), end: Date.parse(r.finishedAt) }
}

describe.skipIf(unavailable)('a fleet of four hosts in batches over SSH', () => {
  let h: SshHosts
  let hosts: TestHost[]
  let ports: number[]

  const inputs = (release: string, extra: Record<string, string> = {}): Record<string, string> =>
    webInputs(h, hosts.map((x) => x.label).join('\n'), `~/apps/web/releases/${release}`, { 'stable-seconds': '1', 'hosts-per-batch': '1, 100%', ...extra })
  const fleet = (release: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
    runAction({ inputs: inputs(release, extra), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 170_000, post: true })
  const answers = (i: number) => until(`host ${i + 1} answers`, async () => probe(ports[i]!))

  beforeAll(async () => {
    h = await newHosts(4)
    hosts = h.hosts
    ports = [await freePort(), await freePort(), await freePort(), await freePort()]
    hosts.forEach((host, i) => {
      for (const r of ['v1', 'v2', 'v5', 'v6']) writeRelease(host, r, ports[i]!)
      writeRelease(host, 'v3', ports[i]!, i === 2) // crash-loops on the third host only (batch 2)
      writeRelease(host, 'v4', ports[i]!, i === 0) // crash-loops on the canary only
    })
    const first = await fleet('v1')
    expect(first.outputs.result, first.stdout + first.stderr).toBe('deployed')
  }, 240_000)

  test('`1, 100%`: all deployed; the canary ended before the others started, and the other three ran at once', async () => {
    const run = await fleet('v2')
    expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
    const out = JSON.parse(run.outputs.hosts!) as HostsOutput
    const spans = hosts.map((x) => span(out[x.label]!.report!))
    const rest = spans.slice(1)
    expect(spans[0]!.end).toBeLessThanOrEqual(Math.min(...rest.map((s) => s.start)))
    // Overlapping: every one of hosts 2–4 started before any of them ended.
    expect(Math.max(...rest.map((s) => s.start))).toBeLessThan(Math.min(...rest.map((s) => s.end)))
    for (let i = 0; i < 4; i++) {
      expect(live(hosts[i]!)).toBe(releaseOn(hosts[i]!, 'v2'))
      expect(await answers(i)).toBe('v2')
    }
    // The log: one line per host per phase change while the batch runs, then each host's log as its own group.
    expect(run.stdout).toContain(`── batch 2: ${hosts.slice(1).map((x) => x.label).join(', ')} (3 of 4 host(s), at once; 1 done before) ──`)
    for (const x of hosts.slice(1)) {
      expect(run.stdout).toMatch(new RegExp(`^${x.label.replace(/[.]/g, '\\.')}: Verify own processes$`, 'm'))
      expect(run.stdout).toContain(`::group::${x.label}: deployed — its log`)
    }
    expect(run.summary.split('\n')[0]).toMatch(/^## ✅ Deployed to 4 hosts, in 2 batches/)
  }, 180_000)

  test('a failure in the second batch: every host is back on v2 and verified; the failing host is named with its cause', async () => {
    const run = await fleet('v3')
    expect(run.outputs.result, run.stdout + run.stderr).toBe('rolled-back')
    expect(run.code).toBe(1)
    const out = JSON.parse(run.outputs.hosts!) as HostsOutput
    for (let i = 0; i < 4; i++) {
      expect(live(hosts[i]!), hosts[i]!.label).toBe(releaseOn(hosts[i]!, 'v2'))
      expect(out[hosts[i]!.label]!.release).toBe(releaseOn(hosts[i]!, 'v2'))
      expect(await answers(i)).toBe('v2')
    }
    // The canary switched in batch 1: it went back, and its own audit line says why.
    expect(auditLines(hosts[0]!).at(-1)!.message).toMatch(new RegExp(`^fleet rollback: host ${hosts[2]!.label.replace(/[.]/g, '\\.')} ended`))
    expect(run.summary).toMatch(new RegExp(`\\*\\*Cause\\*\\*, on \`${hosts[2]!.label.replace(/[.]/g, '\\.')}\``))
    expect(run.summary).toContain('failed here')
  }, 180_000)

  test('a canary failure contacts no other host', async () => {
    const before = hosts.slice(1).map(footprint)
    const run = await fleet('v4')
    expect(run.outputs.result, run.stdout + run.stderr).toBe('rolled-back')
    expect(hosts.slice(1).map(footprint)).toEqual(before)
    expect(live(hosts[0]!)).toBe(releaseOn(hosts[0]!, 'v2'))
    const out = JSON.parse(run.outputs.hosts!) as HostsOutput
    for (const x of hosts.slice(1)) expect(out[x.label]).toEqual({ result: 'aborted', release: null, previous: null, report: null })
    expect(run.summary).toContain('never contacted: the rollout stopped in batch 1')
  }, 180_000)

  test('migrate on a fleet (promise 15): on the first host only, alone, before any other host started; the others say they skip it', async () => {
    // Each host's migrate would leave a line in its own HOME: only the first host's may exist.
    const marker = (x: TestHost) => path.join(x.home, 'migrated.txt')
    const run = await fleet('v6', { 'hosts-per-batch': '2', migrate: 'echo "$RELEASE_DIR $(date +%s%3N)" >> "$HOME/migrated.txt"' })
    expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
    const [first, ...rest] = hosts
    const lines = fs.readFileSync(marker(first!), 'utf8').trim().split('\n')
    expect(lines).toHaveLength(1)
    const [dir, at] = lines[0]!.split(' ')
    expect(dir).toBe(releaseOn(first!, 'v6'))
    for (const x of rest) expect(fs.existsSync(marker(x)), x.label).toBe(false)
    // Before any other host's run began (so before any switch), though the first batch holds two hosts.
    const out = JSON.parse(run.outputs.hosts!) as HostsOutput
    for (const x of rest) expect(Number(at)).toBeLessThan(span(out[x.label]!.report!).start)
    for (const x of rest) {
      const report = JSON.parse(fs.readFileSync(out[x.label]!.report!, 'utf8')) as { migrate?: { skipped: string | null } }
      expect(report.migrate?.skipped).toMatch(/first host only/)
      expect(live(x)).toBe(releaseOn(x, 'v6'))
    }
  }, 180_000)

  test('a cancel during the second batch: no host is sent back, each host of that batch stopped before its switch or finished', async () => {
    const before = hosts.map(live)
    const run = startAction({ inputs: inputs('v5'), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 170_000, runId: '7201' })
    await until('the second batch under way', async () => (run.stdout().includes('── batch 2:') ? true : null), 150_000)
    run.child.kill('SIGINT')
    const r = await run.done
    if (process.env.PSD_DUMP) fs.writeFileSync(process.env.PSD_DUMP, r.stdout + r.summary)
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout).toMatch(/Cancelled during /)
    expect(r.stdout).not.toContain('── fleet rollback')
    const out = JSON.parse(r.outputs.hosts!) as HostsOutput
    expect(out[hosts[0]!.label]).toMatchObject({ result: 'deployed', release: releaseOn(hosts[0]!, 'v5') })
    for (const x of hosts.slice(1)) {
      // Each host says what it runs, and it does: v5 if it was past its switch, else what it ran before.
      expect([releaseOn(x, 'v5'), before[hosts.indexOf(x)]]).toContain(live(x))
      if (out[x.label]!.result === 'deployed') expect(live(x)).toBe(releaseOn(x, 'v5'))
      expect(fs.existsSync(path.join(x.pm2Home, 'pm2-safe-deploy.lock'))).toBe(false)
    }
    // Nobody failed: each host of that batch says the cancel stopped it, or that it finished past its switch.
    for (const x of hosts.slice(1)) expect(r.stdout).toMatch(new RegExp(`^${x.label.replace(/[.]/g, '\\.')}: \\w+: (stopped before its switch: the job was cancelled|finished its run after the cancel)`, 'm'))
    expect(r.stdout).not.toContain('failed here')
    await runPost(r, path.join(h.dir, 'runner-pm2'))
    endJob(r)
  }, 180_000)
})

// Promise 13 through the bundled action, as a runner runs it, on three real sshd hosts on
// loopback (helpers/sshd.ts: each host its own local user, HOME, PM2_HOME and daemon): one
// host at a time, the first that does not end deployed stops the rollout, and the hosts
// already switched go back, last first, each verified and recorded on that host.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { APPS } from './helpers/daemon.js'
import { freePort, probe, until } from './helpers/load.js'
import { startAction, type StartedAction } from './helpers/lock-scenarios.js'
import { endJob, runAction, runPost, type ActionRun } from './helpers/run-action.js'
import { sshHostsForThisFile, sshHostsUnavailable, webInputs, type SshHosts, type TestHost } from './helpers/sshd.js'

const unavailable = sshHostsUnavailable()
if (unavailable && process.env.CI === 'true') throw new Error(`Under CI the fleet tests must run, but: ${unavailable}`)
if (unavailable) console.warn(`Skipping the fleet tests: ${unavailable}`)

const newHosts = sshHostsForThisFile()

/** ~/apps/web/releases/<name> on a host: the HTTP app (fork mode) on that host's own port; `crash` exits 0.3 s after start. */
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

const audit = (host: TestHost): { result: string; message: string; report: string | null }[] => {
  try {
    return fs.readFileSync(path.join(host.pm2Home, 'pm2-safe-deploy.audit.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  } catch {
    return []
  }
}

const runsOn = (host: TestHost) => {
  try {
    return fs.readdirSync(path.join(host.home, '.cache/pm2-safe-deploy/runs')).sort()
  } catch {
    return []
  }
}

/** Everything a contact would leave on a host: its link, audit lines, run directories, lock, and own processes. */
const footprint = (host: TestHost) => ({
  link: live(host),
  audit: audit(host).length,
  runs: runsOn(host),
  lock: fs.existsSync(path.join(host.pm2Home, 'pm2-safe-deploy.lock')),
  processes: host
    .jlist()
    .map((p) => ({ name: p.name, pid: p.pid, status: p.pm2_env.status, restarts: p.pm2_env.restart_time }))
})

interface HostsOutput {
  [label: string]: { result: string; release: string | null; previous: string | null; report: string | null }
}

describe.skipIf(unavailable)('a fleet of three hosts over SSH', () => {
  let h: SshHosts
  let hosts: TestHost[]
  let ports: number[]

  function inputs(release: string, lines = hosts.map((x) => x.label), extra: Record<string, string> = {}): Record<string, string> {
    return webInputs(h, lines.join('\n'), `~/apps/web/releases/${release}`, extra)
  }

  const fleet = (release: string, lines?: string[], extra: Record<string, string> = {}): Promise<ActionRun> =>
    runAction({ inputs: inputs(release, lines, extra), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 170_000, post: true })

  const start = (release: string, runId: string): StartedAction =>
    startAction({ inputs: inputs(release), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 170_000, runId })

  /** Waits for `pattern` in the running step's log after the line `after`. */
  const waitInLog = (run: StartedAction, after: string, pattern: RegExp) =>
    until(`${pattern} after ${after}`, async () => {
      const out = run.stdout()
      const at = out.indexOf(after)
      return at >= 0 && pattern.test(out.slice(at)) ? true : null
    }, 150_000)

  const answers = (i: number) => until(`host ${i + 1} answers`, async () => probe(ports[i]!))

  beforeAll(async () => {
    h = await newHosts(3)
    hosts = h.hosts
    ports = [await freePort(), await freePort(), await freePort()]
    hosts.forEach((host, i) => {
      for (const r of ['v1', 'v2', 'v4']) writeRelease(host, r, ports[i]!)
      writeRelease(host, 'v3', ports[i]!, i === 1) // crash-loops on the second host only
      writeRelease(host, 'v5', ports[i]!, i === 2) // crash-loops on the third host only
    })
    const first = await fleet('v1')
    expect(first.outputs.result, first.stdout + first.stderr).toBe('deployed')
  }, 240_000)

  test('all three deployed, one at a time: the hosts output, and the summary and log open with the table of hosts', async () => {
    const run = await fleet('v2')
    expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
    expect(run.code).toBe(0)
    const out = JSON.parse(run.outputs.hosts!) as HostsOutput
    expect(Object.keys(out)).toEqual(hosts.map((x) => x.label))
    hosts.forEach((host) => {
      expect(out[host.label]).toMatchObject({ result: 'deployed', release: releaseOn(host, 'v2'), previous: releaseOn(host, 'v1') })
      expect(out[host.label]!.report!.startsWith(host.pm2Home)).toBe(true)
      expect(live(host)).toBe(releaseOn(host, 'v2'))
    })
    for (let i = 0; i < 3; i++) expect(await answers(i)).toBe('v2')
    // One host at a time, in order: each host's run starts after the previous one's verdict.
    const starts = hosts.map((x) => run.stdout.indexOf(`── host ${hosts.indexOf(x) + 1} of 3: ${x.label} ──`))
    expect(starts.every((s, i) => s >= 0 && (i === 0 || s > starts[i - 1]!))).toBe(true)
    expect(run.summary.split('\n')[0]).toMatch(/^## ✅ Deployed to 3 hosts, one at a time/)
    expect(run.summary).toMatch(/\| host \| batch \| result \| ran before \| tried \| runs now \| time \| why \|/)
    for (const x of hosts) expect(run.summary).toContain(`### Host \`${x.label}\`: deployed`)
    expect(run.stdout).toMatch(/==== pm2-safe-deploy: ✅ Deployed to 3 hosts.*\[deployed\] ====\n.*\nHosts, in rollout order \(Releases by their name under [^\n]*\):\n\s+host\s+batch\s+result/)
  }, 180_000)

  test("the second host's release crash-loops: the first goes back to its previous release and is verified, the third is never contacted", async () => {
    const third = footprint(hosts[2]!)
    const firstAudit = audit(hosts[0]!).length
    const run = await fleet('v3')
    expect(run.outputs.result, run.stdout + run.stderr).toBe('rolled-back')
    expect(run.code).toBe(1)
    const [a, b, c] = hosts as [TestHost, TestHost, TestHost]
    const out = JSON.parse(run.outputs.hosts!) as HostsOutput
    expect(out[a.label]).toMatchObject({ result: 'rolled-back', release: releaseOn(a, 'v2'), previous: releaseOn(a, 'v2') })
    expect(out[b.label]).toMatchObject({ result: 'rolled-back', release: releaseOn(b, 'v2'), previous: releaseOn(b, 'v2') })
    expect(out[c.label]).toEqual({ result: 'aborted', release: null, previous: null, report: null })
    // The first host: back on v2 and serving it, and its own records say why.
    expect(live(a)).toBe(releaseOn(a, 'v2'))
    expect(await answers(0)).toBe('v2')
    const records = audit(a).slice(firstAudit)
    expect(records.map((r) => r.result)).toEqual(['deployed', 'deployed'])
    expect(records[1]!.message).toMatch(new RegExp(`^fleet rollback: host ${b.label.replace(/[.]/g, '\\.')} ended rolled-back`))
    const report = JSON.parse(fs.readFileSync(out[a.label]!.report!, 'utf8'))
    expect(report).toMatchObject({ result: 'deployed', release: { target: releaseOn(a, 'v2') } })
    expect(report.message).toMatch(/^fleet rollback: /)
    expect(live(b)).toBe(releaseOn(b, 'v2'))
    // The third: no connection, no lock, no audit line, no run, nothing changed.
    expect(footprint(c)).toEqual(third)
    expect(run.stdout).not.toContain(`${c.label}: node `)
    expect(run.stdout).toMatch(/::error title=pm2-safe-deploy%3A Fleet rolled back::/)
    expect(run.summary.split('\n')[0]).toMatch(/^## ↩️ Rolled back/)
  }, 180_000)

  test('the first host unreachable at the start: aborted, nothing changed anywhere', async () => {
    const before = hosts.map(footprint)
    const dead = await freePort()
    const hostKey = hosts[0]!.knownHostsLine.split(' ').slice(1).join(' ')
    const lines = [`${hosts[0]!.user}@127.0.0.1:${dead}`, hosts[1]!.label, hosts[2]!.label]
    const run = await fleet('v4', lines, { 'ssh-known-hosts': `${h.knownHosts}[127.0.0.1]:${dead} ${hostKey}\n` })
    expect(run.outputs.result, run.stdout + run.stderr).toBe('aborted')
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/cannot connect to 127\.0\.0\.1 port \d+/)
    expect(run.stdout).toMatch(/Nothing changed on any host/)
    expect(hosts.map(footprint)).toEqual(before)
  }, 180_000)

  test('cancel during the second host: it finishes, the third is not contacted, nothing goes back, and the job says so', async () => {
    const third = footprint(hosts[2]!)
    const run = start('v4', '7101')
    // Past the second host's switch: it finishes its verification on its own.
    await waitInLog(run, `── host 2 of 3: ${hosts[1]!.label} ──`, /^::group::Verify own processes$/m)
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.code).toBe(1)
    expect(r.outputs.result, r.stdout + r.stderr).toBe('failed')
    expect(r.stdout).toMatch(new RegExp(`Cancelled during ${hosts[1]!.label.replace(/[.]/g, '\\.')}`))
    const out = JSON.parse(r.outputs.hosts!) as HostsOutput
    expect(out[hosts[0]!.label]).toMatchObject({ result: 'deployed', release: releaseOn(hosts[0]!, 'v4') })
    expect(out[hosts[1]!.label]).toMatchObject({ result: 'deployed', release: releaseOn(hosts[1]!, 'v4') })
    expect(out[hosts[2]!.label]!.result).toBe('aborted')
    expect(footprint(hosts[2]!)).toEqual(third)
    await runPost(r, path.join(h.dir, 'runner-pm2'))
    endJob(r)
  }, 180_000)

  test('the second host unreachable for its rollback: the first still goes back, and the fleet fails naming the second with what it runs', async () => {
    // From where the cancel left the fleet: the first two on v4, the third on v2.
    const run = start('v5', '7102')
    await waitInLog(run, `── host 3 of 3: ${hosts[2]!.label} ──`, /::group::/)
    cutOff(hosts[1]!)
    const r = await run.done
    expect(r.outputs.result, r.stdout + r.stderr).toBe('failed')
    expect(r.code).toBe(1)
    const [a, b, c] = hosts as [TestHost, TestHost, TestHost]
    const out = JSON.parse(r.outputs.hosts!) as HostsOutput
    expect(out[b.label]).toMatchObject({ result: 'failed', release: releaseOn(b, 'v5'), previous: releaseOn(b, 'v4') })
    expect(r.stdout).toContain(`${b.label}: unreachable for its rollback (runs ${releaseOn(b, 'v5')})`)
    expect(out[a.label]).toMatchObject({ result: 'rolled-back', release: releaseOn(a, 'v4') })
    expect(out[c.label]).toMatchObject({ result: 'rolled-back', release: releaseOn(c, 'v2') })
    expect(live(a)).toBe(releaseOn(a, 'v4'))
    expect(await answers(0)).toBe('v4')
    expect(live(b)).toBe(releaseOn(b, 'v5'))
    await runPost(r, path.join(h.dir, 'runner-pm2'))
    endJob(r)
  }, 180_000)
})

/** A host that drops off the network: its sshd stops listening and its open sessions end (the daemon and apps keep running). */
function cutOff(host: TestHost): void {
  process.kill(host.sshdPid, 'SIGTERM')
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (fs.statSync(`/proc/${e}`).uid !== host.uid) continue
      if (/^sshd/.test(fs.readFileSync(`/proc/${e}/cmdline`, 'utf8'))) process.kill(Number(e), 'SIGKILL')
    } catch {
      // gone
    }
  }
}

// Promise 12 (and 14) through the bundled action, as a runner runs it, against real sshd hosts
// on loopback: each host is its own local user with its own PM2 daemon (helpers/sshd.ts).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { APPS } from './helpers/daemon.js'
import { freePort, loadLoop, probe, until } from './helpers/load.js'
import { jobEnv, MAIN, parseCommandFile, readAllFiles, runAction, runPost, stepEnv, type ActionRun } from './helpers/run-action.js'
import { sshHostsForThisFile, sshHostsUnavailable, type SshHosts, type TestHost } from './helpers/sshd.js'

const unavailable = sshHostsUnavailable()
if (unavailable && process.env.CI === 'true') throw new Error(`Under CI the remote-deploy tests must run, but: ${unavailable}`)
if (unavailable) console.warn(`Skipping the remote-deploy tests: ${unavailable}`)

const newHosts = sshHostsForThisFile()

interface ReleaseOptions {
  port: number
  crash?: boolean
  /** Busy-waits this long when the ecosystem file is loaded: a deploy that is slow before its release switch. */
  slowLoadMs?: number
  /** Lines the app prints at start (to test that remote output never acts as a command). */
  print?: string[]
}

/** ~/apps/web/releases/<name> on the host: the graceful HTTP app as a 2-instance cluster. */
function writeRelease(host: TestHost, name: string, o: ReleaseOptions): string {
  const rel = `apps/web/releases/${name}`
  const server = fs.readFileSync(path.join(APPS, 'http-server.cjs'), 'utf8')
  const print = (o.print ?? []).map((l) => `console.log(${JSON.stringify(l)})\n`).join('')
  host.writeFile(`${rel}/server.js`, `${print}${o.crash ? 'setTimeout(() => process.exit(3), 1000)\n' : ''}${server}`)
  const slow = o.slowLoadMs ? `{ const end = Date.now() + ${o.slowLoadMs}; while (Date.now() < end); }\n` : ''
  host.writeFile(
    `${rel}/ecosystem.config.js`,
    `${slow}module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, exec_mode: 'cluster', instances: 2, kill_timeout: 3000, env: { PORT: '${o.port}', RELEASE: '${name}' } }] }\n`
  )
  return path.join(host.home, rel)
}

function inputsFor(h: SshHosts, host: TestHost, release: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    app: 'web',
    'environment-suffix': '-test',
    ecosystem: 'ecosystem.config.js',
    'current-link': '~/apps/web/current',
    'release-dir': `~/apps/web/releases/${release}`,
    'stable-seconds': '2',
    'timeout-seconds': '60',
    'pm2-home': '',
    'pm2-path': path.join(h.nodeModules, '.bin', 'pm2'),
    'ssh-host': host.label,
    'ssh-key': h.clientKey,
    'ssh-known-hosts': h.knownHosts,
    ...extra
  }
}

function deploy(h: SshHosts, host: TestHost, release: string, extra: Record<string, string> = {}, post = true): Promise<ActionRun> {
  return runAction({ inputs: inputsFor(h, host, release, extra), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 110_000, post })
}

/** Other apps' processes as the host's daemon lists them: what must not change. */
const neighbours = (host: TestHost) =>
  host
    .jlist()
    .filter((p) => p.name !== 'web-test')
    .map((p) => ({ name: p.name, pid: p.pid, restarts: p.pm2_env.restart_time, status: p.pm2_env.status }))

const live = (host: TestHost) => {
  try {
    return fs.realpathSync(path.join(host.home, 'apps/web/current'))
  } catch {
    return null
  }
}

function startNeighbour(host: TestHost): void {
  const script = host.writeFile('other/idle.cjs', fs.readFileSync(path.join(APPS, 'idle.cjs'), 'utf8'))
  host.pm2(['start', script, '--name', 'billing-api'])
}

describe.skipIf(unavailable)('a remote deploy over SSH to one host', () => {
  let h: SshHosts
  let host: TestHost
  let port: number
  beforeAll(async () => {
    h = await newHosts(1)
    host = h.hosts[0]!
    port = await freePort()
    startNeighbour(host)
    writeRelease(host, 'v1', { port })
    writeRelease(host, 'v2', { port })
  })

  test('a release switch of a cluster app under load: 0 failed requests, neighbours unchanged, outputs and summary relayed', async () => {
    const first = await deploy(h, host, 'v1')
    expect(first.outputs.result, first.stdout).toBe('deployed')
    await until('v1 answers', async () => ((await probe(port)) === 'v1' ? true : null))
    const before = neighbours(host)
    const load = loadLoop(port)
    const run = await deploy(h, host, 'v2')
    const stats = await load.stop()
    expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
    expect(run.code).toBe(0)
    expect(stats.failed, stats.errors.join('\n')).toBe(0)
    expect(stats.byRelease.v2).toBeGreaterThan(0)
    expect(neighbours(host)).toEqual(before)
    expect(live(host)).toBe(path.join(host.home, 'apps/web/releases/v2'))
    expect(run.outputs.release).toBe(path.join(host.home, 'apps/web/releases/v2'))
    const hosts = JSON.parse(run.outputs.hosts!)
    expect(hosts[host.label]).toMatchObject({ result: 'deployed', release: path.join(host.home, 'apps/web/releases/v2'), previous: path.join(host.home, 'apps/web/releases/v1') })
    // The report stays on the host (promise 11), under the host user's PM2_HOME.
    expect(run.outputs.report!.startsWith(host.pm2Home)).toBe(true)
    expect(fs.existsSync(run.outputs.report!)).toBe(true)
    // The host's log groups and summary reach the job.
    expect(run.stdout).toMatch(/^::group::Release switch$/m)
    expect(run.summary).toContain(host.label)
    expect(run.summary).toMatch(/deployed/)
    // The second deploy of the same version shipped no bundle bytes.
    expect(first.stdout).toMatch(/sent the action's bundle \w+ \(\d+ bytes, sha256 verified/)
    expect(run.stdout).toMatch(/already there \(0 bytes sent\)/)
  })

  test('a wrong host key, and no ssh-known-hosts: aborted, nothing on the host changed', async () => {
    const before = { list: neighbours(host), link: live(host), runs: runsOnHost(host) }
    const other = fs.readFileSync(path.join(h.dir, 'host-0-key.pub'), 'utf8').trim().split(/\s+/)
    const wrongKey = `[127.0.0.1]:${host.port} ssh-ed25519 ${Buffer.alloc(51, 7).toString('base64').slice(0, 68)}`
    expect(other[1]).not.toBe(wrongKey.split(' ')[2])
    const wrong = await deploy(h, host, 'v1', { 'ssh-known-hosts': wrongKey })
    expect(wrong.outputs.result, wrong.stdout).toBe('aborted')
    expect(wrong.code).toBe(1)
    expect(wrong.stdout).toMatch(/::error title=Host key verification failed::.*127\.0\.0\.1.*(does NOT match|not in ssh-known-hosts)/)
    const missing = await deploy(h, host, 'v1', { 'ssh-known-hosts': '' })
    expect(missing.outputs.result).toBe('aborted')
    expect(missing.stdout).toMatch(/ssh-known-hosts is required with ssh-host/)
    const otherHost = await deploy(h, host, 'v1', { 'ssh-known-hosts': `[127.0.0.1]:1 ${other[0]} ${other[1]}` })
    expect(otherHost.outputs.result).toBe('aborted')
    expect(otherHost.stdout).toMatch(/ssh-known-hosts has no line for \[127\.0\.0\.1\]:\d+.*ssh-keyscan -p \d+ 127\.0\.0\.1/)
    for (const r of [wrong, missing, otherHost]) expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)/)
    expect({ list: neighbours(host), link: live(host), runs: runsOnHost(host) }).toEqual(before)
  })
})

/** The run directories on a host: one per deploy that started there. */
function runsOnHost(host: TestHost): string[] {
  try {
    return fs.readdirSync(path.join(host.home, '.cache/pm2-safe-deploy/runs')).sort()
  } catch {
    return []
  }
}

export { parseCommandFile, readAllFiles, runPost, spawn, jobEnv, stepEnv, MAIN }

// Issue 23's faults that can be made real on sshd: a second drop after a good reconnect (point 2),
// a jump host without its known_hosts line or with a changed key (point 4), a runner temp path
// with a space and `$(…)` under ssh-jump (point 5), the records' modes on the host (point 6), and a
// cached bundle altered on the host (point 10). The narrower windows are in unit/remote-deployer.
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { APPS } from './helpers/daemon.js'
import { freePort, until } from './helpers/load.js'
import { jobEnv, MAIN, parseCommandFile, runAction, stepEnv, type ActionRun } from './helpers/run-action.js'
import { sshHostsForThisFile, sshHostsUnavailable, webInputs, type SshHosts, type TestHost } from './helpers/sshd.js'

const unavailable = sshHostsUnavailable()
if (unavailable && process.env.CI === 'true') throw new Error(`Under CI the remote-deploy tests must run, but: ${unavailable}`)

const newHosts = sshHostsForThisFile()

/** A release; `slowLoadMs`: the ecosystem file busy-waits that long each time it is loaded (a long deploy). */
function writeRelease(host: TestHost, name: string, port: number, slowLoadMs = 0): void {
  host.writeFile(`apps/web/releases/${name}/server.js`, fs.readFileSync(path.join(APPS, 'http-server.cjs'), 'utf8'))
  const slow = slowLoadMs ? `{ const end = Date.now() + ${slowLoadMs}; while (Date.now() < end); }\n` : ''
  host.writeFile(
    `apps/web/releases/${name}/ecosystem.config.js`,
    `${slow}module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, exec_mode: 'fork', env: { PORT: '${port}', RELEASE: '${name}' } }] }\n`
  )
}

function inputsFor(h: SshHosts, host: TestHost, release: string, extra: Record<string, string> = {}): Record<string, string> {
  return webInputs(h, host.label, `~/apps/web/releases/${release}`, extra)
}

const live = (host: TestHost) => {
  try {
    return fs.realpathSync(path.join(host.home, 'apps/web/current'))
  } catch {
    return null
  }
}

/** A main step the test can watch and whose connections it can kill. */
function startMain(h: SshHosts, inputs: Record<string, string>, extraEnv: Record<string, string> = {}) {
  const runnerDir = fs.mkdtempSync(path.join(h.dir, 'live-'))
  const job = jobEnv({ inputs, pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: runnerDir, env: extraEnv }, runnerDir)
  const env = stepEnv(job, path.join(runnerDir, 'main'))
  const child = spawn(process.execPath, [MAIN], { env, cwd: runnerDir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  let done = false
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => ((done = true), resolve(code ?? (signal ? 137 : 1)))))
  return {
    finished: async (): Promise<ActionRun> => ({
      code: await exited,
      stdout,
      stderr,
      outputs: parseCommandFile(fs.readFileSync(env.GITHUB_OUTPUT!, 'utf8')),
      state: parseCommandFile(fs.readFileSync(env.GITHUB_STATE!, 'utf8')),
      summary: fs.readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
      runnerDir,
      jobEnv: job,
      runner: 'github'
    }),
    state: () => parseCommandFile(fs.readFileSync(env.GITHUB_STATE!, 'utf8')),
    stdout: () => stdout,
    waitFor: (re: RegExp, n = 1) =>
      until(`the main step to print ${re} ${n} time(s)`, async () => {
        if ((stdout.match(new RegExp(re.source, 'gm')) ?? []).length >= n) return true
        if (done) throw new Error(`the main step ended first:\n${stdout}\n${stderr}`)
        return null
      }, 90_000)
  }
}

/** The job's ssh clients and shared connections (their command lines name its ssh directory). */
function killConnections(ssh: { dir: string; controlDir: string }): number {
  let n = 0
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8')
      if (cmd.includes(ssh.dir) || cmd.includes(ssh.controlDir)) {
        process.kill(Number(e), 'SIGKILL')
        n++
      }
    } catch {
      // gone
    }
  }
  return n
}

describe.skipIf(unavailable)('remote faults on real sshd (issue 23)', () => {
  let h: SshHosts
  let target: TestHost
  let jump: TestHost
  let port: number
  beforeAll(async () => {
    h = await newHosts(2)
    target = h.hosts[0]!
    jump = h.hosts[1]!
    port = await freePort()
    for (const v of ['v1', 'v2', 'v3', 'v4', 'v5']) writeRelease(target, v, port)
    writeRelease(target, 'slow', port, 12_000)
    const first = await runAction({ inputs: inputsFor(h, target, 'v1'), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 110_000, post: true })
    expect(first.outputs.result, first.stdout).toBe('deployed')
  })

  test('point 2: a second drop more than the reconnect window after a good reconnect: still followed to deployed', async () => {
    const m = startMain(h, inputsFor(h, target, 'slow', { 'timeout-seconds': '120' }), { PM2SD_RECONNECT_SECONDS: '3' })
    await m.waitFor(/^::group::Inputs and ownership$/)
    const ssh = JSON.parse(m.state()['remote-ssh-dir']!) as { dir: string; controlDir: string }
    expect(killConnections(ssh)).toBeGreaterThan(0)
    await m.waitFor(/reconnected; the host's log continues/)
    // Longer than the window after the first drop: the window restarted when the host answered.
    await new Promise((r) => setTimeout(r, 4500))
    const killed = killConnections(ssh)
    if (killed === 0) console.log(m.stdout(), fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map((e) => { try { return fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ') } catch { return '' } }).filter((c) => /ssh/.test(c)).join('\n'))
    expect(killed).toBeGreaterThan(0)
    await m.waitFor(/reconnected; the host's log continues/, 2)
    const run = await m.finished()
    expect(run.stdout).not.toMatch(/stayed unreachable/)
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(live(target)).toBe(path.join(target.home, 'apps/web/releases/slow'))
    // The warning stands outside the host's group, which goes on after the reconnect.
    expect(run.stdout).toMatch(/^::endgroup::\n::warning::[^\n]*connection dropped/m)
    expect(run.stdout).toMatch(/^::group::[^\n]* \(continued\)$/m)
  })

  test('point 4: a jump host without its known_hosts line is refused before connecting, naming the jump host', async () => {
    const before = live(target)
    const run = await runAction({
      inputs: inputsFor(h, target, 'v3', { 'ssh-jump': jump.label, 'ssh-known-hosts': target.knownHostsLine }),
      pm2Home: path.join(h.dir, 'runner-pm2'),
      baseDir: path.join(h.dir, 'runner'),
      timeoutMs: 60_000,
      post: true
    })
    expect(run.outputs.result).toBe('aborted')
    expect(run.stdout).toMatch(/no line for the jump host \[127\.0\.0\.1\]:\d+ \(ssh-jump\)/)
    expect(live(target)).toBe(before)
  })

  test("point 4: a jump host whose key changed is named as the jump host, not as the target being unreachable", async () => {
    // The jump's line carries the target's key: a changed key for the jump host.
    const before = live(target)
    const wrong = jump.knownHostsLine.split(' ').slice(0, 1).concat(target.knownHostsLine.split(' ').slice(1)).join(' ')
    const run = await runAction({
      inputs: inputsFor(h, target, 'v3', { 'ssh-jump': jump.label, 'ssh-known-hosts': `${target.knownHostsLine}\n${wrong}\n` }),
      pm2Home: path.join(h.dir, 'runner-pm2'),
      baseDir: path.join(h.dir, 'runner'),
      timeoutMs: 60_000,
      post: true
    })
    expect(run.outputs.result).toBe('aborted')
    expect(run.stdout).toMatch(/the jump host \[127\.0\.0\.1\]:\d+ \(ssh-jump\): the host's key does NOT match ssh-known-hosts/)
    expect(run.stdout).not.toMatch(/check the host, the port and the firewall/)
    expect(live(target)).toBe(before)
  })

  test('point 5: through ssh-jump with a runner temp path holding a space and `$(…)`: deployed, nothing run on the runner', async () => {
    const marker = path.join(h.dir, `pwned-${crypto.randomBytes(4).toString('hex')}`)
    const base = path.join(h.dir, `runner tmp $(touch ${marker})`)
    fs.mkdirSync(base, { recursive: true })
    const run = await runAction({ inputs: inputsFor(h, target, 'v3', { 'ssh-jump': jump.label }), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: base, timeoutMs: 110_000, post: true })
    expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
    expect(fs.existsSync(marker)).toBe(false)
    expect(live(target)).toBe(path.join(target.home, 'apps/web/releases/v3'))
  })

  test('point 10: a cached bundle altered on the host is found by its sha256, removed, installed again, never run', async () => {
    const cache = path.join(target.home, '.cache/pm2-safe-deploy')
    const hash = fs.readdirSync(cache).find((n) => /^[0-9a-f]{64}$/.test(n))!
    const planted = path.join(target.home, 'altered-bundle-ran')
    fs.appendFileSync(path.join(cache, hash, 'host', 'index.js'), `\nrequire('fs').writeFileSync(${JSON.stringify(planted)}, 'x')\n`)
    const run = await runAction({ inputs: inputsFor(h, target, 'v4'), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 110_000, post: true })
    expect(run.stdout).toMatch(/the cached bundle \w+ does not match its sha256 \(truncated or altered\): removed, not run; installing it again/)
    expect(run.stdout).toMatch(/sent the action's bundle \w+ \(\d+ bytes, sha256 verified on the host\)/)
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(fs.existsSync(planted)).toBe(false)
  })

  test("point 6: the host's audit log, run directory and report are its owner's alone", async () => {
    const run = await runAction({ inputs: inputsFor(h, target, 'v5'), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 110_000, post: true })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    const mode = (p: string) => fs.statSync(p).mode & 0o777
    expect(mode(run.outputs.report!)).toBe(0o600)
    expect(mode(path.dirname(run.outputs.report!))).toBe(0o700)
    const audit = fs.readdirSync(target.pm2Home).filter((n) => /audit|deploys/.test(n))
    expect(audit.length).toBeGreaterThan(0)
    for (const a of audit) if (fs.statSync(path.join(target.pm2Home, a)).isFile()) expect(mode(path.join(target.pm2Home, a)), a).toBe(0o600)
  })
})

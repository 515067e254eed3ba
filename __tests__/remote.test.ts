// Promise 12 (and 14) through the bundled action, as a runner runs it, against real sshd hosts
// on loopback: each host is its own local user with its own PM2 daemon (helpers/sshd.ts).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { APPS } from './helpers/daemon.js'
import { freePort, loadLoop, probe, until } from './helpers/load.js'
import { jobEnv, MAIN, parseCommandFile, readAllFiles, runAction, runPost, stepEnv, type ActionRun } from './helpers/run-action.js'
import { sshHostsForThisFile, sshHostsUnavailable, webInputs, type SshHosts, type TestHost } from './helpers/sshd.js'

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
  return webInputs(h, host.label, `~/apps/web/releases/${release}`, extra)
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

/** A main step started as a runner starts it, that the test can watch, signal or kill mid-deploy. */
function startMain(h: SshHosts, inputs: Record<string, string>) {
  const runnerDir = fs.mkdtempSync(path.join(h.dir, 'live-'))
  const job = jobEnv({ inputs, pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: runnerDir }, runnerDir)
  const env = stepEnv(job, path.join(runnerDir, 'main'))
  const child = spawn(process.execPath, [MAIN], { env, cwd: runnerDir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  let done = false
  const exited = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => {
      done = true
      resolve(code ?? (signal ? 137 : 1))
    })
  )
  const finished = async (): Promise<ActionRun> => {
    const code = await exited
    return {
      code,
      stdout,
      stderr,
      outputs: parseCommandFile(fs.readFileSync(env.GITHUB_OUTPUT!, 'utf8')),
      state: parseCommandFile(fs.readFileSync(env.GITHUB_STATE!, 'utf8')),
      summary: fs.readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
      runnerDir,
      jobEnv: job,
      runner: 'github'
    }
  }
  return {
    child,
    finished,
    state: () => parseCommandFile(fs.readFileSync(env.GITHUB_STATE!, 'utf8')),
    waitFor: (re: RegExp) =>
      until(`the main step to print ${re}`, async () => {
        if (re.test(stdout)) return true
        if (done) throw new Error(`the main step ended before printing ${re}:\n${stdout}\n${stderr}`)
        return null
      }, 90_000)
  }
}

/** Every process whose command line names one of these paths (the job's ssh clients and its shared connection). */
function processesNaming(paths: string[]): number[] {
  const out: number[] = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8')
      if (paths.some((p) => cmd.includes(p))) out.push(Number(e))
    } catch {
      // gone
    }
  }
  return out
}

describe.skipIf(unavailable)('dropped connections, cancels, upload, hostile output, key hygiene', () => {
  let h: SshHosts
  let host: TestHost
  let port: number
  beforeAll(async () => {
    h = await newHosts(1)
    host = h.hosts[0]!
    port = await freePort()
    startNeighbour(host)
    for (const v of ['r1', 'r2', 'r3', 'r4', 'r5']) writeRelease(host, v, { port })
    writeRelease(host, 'slow', { port, slowLoadMs: 3000 })
    const first = await deploy(h, host, 'r1')
    expect(first.outputs.result, first.stdout).toBe('deployed')
  })

  test("the runner's ssh connections killed mid-deploy: the host finishes, the action reconnects and reports deployed", async () => {
    const before = neighbours(host)
    const m = startMain(h, inputsFor(h, host, 'r2', { 'stable-seconds': '5' }))
    await m.waitFor(/^::group::Verify own processes$/m)
    const ssh = JSON.parse(m.state()['remote-ssh-dir']!) as { dir: string; controlDir: string }
    const victims = processesNaming([ssh.dir, ssh.controlDir])
    expect(victims.length).toBeGreaterThan(0)
    for (const pid of victims) process.kill(pid, 'SIGKILL')
    const run = await m.finished()
    expect(run.stdout).toMatch(/connection dropped/)
    expect(run.stdout).toMatch(/reconnected; the host's log continues from byte \d+/)
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.code).toBe(0)
    expect(live(host)).toBe(path.join(host.home, 'apps/web/releases/r2'))
    expect(neighbours(host)).toEqual(before)
    // Every host log line arrived once: the reconnect continued at the byte it stopped at.
    expect(run.stdout.match(/^::group::Release switch$/gm)).toHaveLength(1)
  })

  test('cancel before the release switch stops the host deploy: aborted, link and processes unchanged', async () => {
    const before = { link: live(host), pids: host.jlist().map((p) => p.pid) }
    const m = startMain(h, inputsFor(h, host, 'slow'))
    await m.waitFor(/^::group::Inputs and ownership$/m)
    await new Promise((r) => setTimeout(r, 700))
    m.child.kill('SIGINT')
    const run = await m.finished()
    expect(run.stdout).toMatch(/cancelled before the release switch: the host's deploy was stopped/)
    expect(run.outputs.result, run.stdout).toBe('aborted')
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/Deploy interrupted by SIGINT; the host lock was released\. Nothing was changed\./)
    expect({ link: live(host), pids: host.jlist().map((p) => p.pid) }).toEqual(before)
  })

  test('cancel after the switch: the host finishes its verification, and the job says so', async () => {
    const m = startMain(h, inputsFor(h, host, 'r3', { 'stable-seconds': '3' }))
    // Right after the switch, with the swap's stability window still ahead: a swap verifies inside
    // it, so by "Verify own processes" the host may already have finished.
    await m.waitFor(/^::group::Deploy$/m)
    m.child.kill('SIGINT')
    const run = await m.finished()
    expect(run.stdout).toMatch(/cancelled after the host switched the release.*finishes its verification, or its rollback/)
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(live(host)).toBe(path.join(host.home, 'apps/web/releases/r3'))
  })

  test("a main step killed outright (Gitea's cancel): the post step collects the host's result, then no key material is left", async () => {
    const m = startMain(h, inputsFor(h, host, 'r4', { 'stable-seconds': '3' }))
    await m.waitFor(/^::group::Deploy$/m)
    m.child.kill('SIGKILL')
    const main = await m.finished()
    const ssh = JSON.parse(main.state['remote-ssh-dir']!) as { dir: string; controlDir: string }
    expect(fs.existsSync(path.join(ssh.dir, 'id'))).toBe(true)
    const post = await runPost(main, path.join(h.dir, 'runner-pm2'))
    expect(post.stdout).toMatch(/the main step ended before the host's result was collected: collecting it now/)
    expect(post.stdout).toMatch(/ended deployed after the main step stopped/)
    expect(post.code).toBe(0)
    expect(live(host)).toBe(path.join(host.home, 'apps/web/releases/r4'))
    expectNoKeyMaterial(h, main.runnerDir, [ssh.dir, ssh.controlDir], main.stdout + post.stdout + post.stderr)
  })

  test('upload: a release built on the runner lands in release-dir before preflight, never half', async () => {
    const src = fs.mkdtempSync(path.join(h.dir, 'build-'))
    const staged = writeRelease(host, 'staging-copy', { port })
    for (const f of ['server.js', 'ecosystem.config.js']) fs.copyFileSync(path.join(staged, f), path.join(src, f))
    fs.writeFileSync(path.join(src, 'ecosystem.config.js'), fs.readFileSync(path.join(src, 'ecosystem.config.js'), 'utf8').replace('staging-copy', 'uploaded'))
    const run = await deploy(h, host, 'uploaded', { upload: src })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.stdout).toMatch(/uploaded .* \(\d+ bytes in [\d.]+ s, leaving out \.git\); it waits on the host in \S+\/\.cache\/pm2-safe-deploy\/staging\//)
    const target = path.join(host.home, 'apps/web/releases/uploaded')
    expect(live(host)).toBe(target)
    expect(fs.statSync(path.join(target, 'server.js')).uid).toBe(host.uid)
    // Staged in the cache, never beside the releases; moved into place by the run.
    expect(fs.readdirSync(path.dirname(target)).filter((n) => n.includes('.upload-'))).toEqual([])
    expect(fs.readdirSync(path.join(host.home, '.cache/pm2-safe-deploy/staging'))).toEqual([])
    await until('the uploaded release answers', async () => ((await probe(port)) === 'uploaded' ? true : null))
  })

  test('remote log lines that look like workflow commands reach the job as text only', async () => {
    writeRelease(host, 'hostile', {
      port,
      crash: true,
      print: ['::set-output name=result::deployed', '::error title=forged::forged by the app', '::add-mask::deploy', '::stop-commands::t0k3n', '::warning::forged warning']
    })
    const run = await deploy(h, host, 'hostile', { 'stable-seconds': '3' })
    expect(run.outputs.result, run.stdout).toBe('rolled-back')
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/forged by the app/)
    for (const forged of ['::set-output', '::error title=forged', '::add-mask::', '::stop-commands::', '::warning::forged']) {
      expect(run.stdout.split('\n').filter((l) => l.startsWith(forged))).toEqual([])
    }
    expect(live(host)).toBe(path.join(host.home, 'apps/web/releases/uploaded'))
  })

  test('no key material anywhere on the runner after the post step, and none on the host', async () => {
    const run = await runAction({ inputs: inputsFor(h, host, 'r5'), pm2Home: path.join(h.dir, 'runner-pm2'), baseDir: path.join(h.dir, 'runner'), timeoutMs: 110_000, post: true, keepJob: true })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    const ssh = JSON.parse(run.state['remote-ssh-dir']!) as { dir: string; controlDir: string }
    expectNoKeyMaterial(h, run.runnerDir, [ssh.dir, ssh.controlDir], run.stdout + run.stderr + (run.post?.stdout ?? ''))
    const body = keyBody(h)
    for (const f of readAllFiles(path.join(host.home, '.cache/pm2-safe-deploy/runs'))) expect(f.text.includes(body), f.file).toBe(false)
  })
})

/** The base64 body of the client key: the part that must appear nowhere. */
const keyBody = (h: SshHosts) => h.clientKey.split('\n').filter((l) => l && !l.startsWith('-----')).join('').slice(0, 60)

function expectNoKeyMaterial(h: SshHosts, runnerDir: string, sshDirs: string[], log: string): void {
  for (const d of sshDirs) expect(fs.existsSync(d), d).toBe(false)
  const body = keyBody(h)
  const firstLine = h.clientKey.split('\n')[1]!
  for (const f of readAllFiles(runnerDir)) {
    expect(f.text.includes(firstLine), f.file).toBe(false)
    expect(f.text.replace(/\n/g, '').includes(body), f.file).toBe(false)
  }
  expect(log.includes(firstLine)).toBe(false)
  expect(processesNaming(sshDirs)).toEqual([])
}

describe.skipIf(unavailable)('a host whose node and pm2 only the daemon knows (nvm-like, not on PATH)', () => {
  test('the bundle runs with the daemon\'s node, and pm2 is found beside it', async () => {
    const h = await newHosts(1, [{ nvm: true }])
    const host = h.hosts[0]!
    const port = await freePort()
    writeRelease(host, 'n1', { port })
    const run = await deploy(h, host, 'n1', { 'pm2-path': 'pm2' })
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.stdout).toContain(`node ${host.home}/nvm/bin/node`)
    expect(run.stdout).toMatch(/\(the PM2 daemon's\)/)
    expect(host.jlist().filter((p) => p.name === 'web-test')).toHaveLength(2)
  })
})

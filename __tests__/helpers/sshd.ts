// Throwaway SSH hosts on this machine, for the remote-deploy tests (and the fleet's): each host
// is its own local user (unique name, removed at the end) with its own HOME, PM2_HOME and PM2
// daemon, behind its own sshd on 127.0.0.1 at a free port, with throwaway host and client keys.
// Everything is torn down in afterAll and on exit, also when a test fails: each daemon by its
// PM2_HOME, each sshd by its pid, the user's leftover processes by pid, then the user.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { freePort } from './load.js'
import { PM2_BIN, ROOT } from './daemon.js'

export const SSHD = '/usr/sbin/sshd'

/** Why these tests cannot run here, or null. Under CI they must run: the caller fails instead of skipping. */
export function sshHostsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'remote-deploy tests need root (they create throwaway users with useradd and start sshd)'
  if (!fs.existsSync(SSHD)) return `remote-deploy tests need Debian's openssh-server (${SSHD}); .ci/run installs it`
  for (const tool of ['useradd', 'userdel', 'usermod', 'ssh-keygen', 'ssh']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `remote-deploy tests need \`${tool}\` on PATH`
  }
  return null
}

export interface HostOptions {
  /** nvm-like: node and pm2 only in ~/nvm/bin, the daemon started with that node, and the ssh session's PATH without node. */
  nvm?: boolean
}

export interface TestHost {
  user: string
  uid: number
  gid: number
  home: string
  pm2Home: string
  port: number
  /** The `ssh-host` line: user@127.0.0.1:port. */
  label: string
  knownHostsLine: string
  /** The node the host's daemon runs. */
  node: string
  sshdPid: number
  /** A command as the host's user, in its HOME, with its PM2_HOME. */
  exec(file: string, args: string[], extraEnv?: Record<string, string>): string
  pm2(args: string[]): string
  jlist(): { name: string; pid: number; pm_id: number; pm2_env: { status: string; restart_time: number; pm_cwd?: string; exec_mode?: string } }[]
  /** Writes a file as root, then gives it to the host's user. */
  writeFile(rel: string, text: string): string
}

export interface SshHosts {
  dir: string
  hosts: TestHost[]
  clientKey: string
  /** Every host's known_hosts line. */
  knownHosts: string
  /** Where a host's user can read this project's node_modules (a copy when the checkout is not readable to others). */
  nodeModules: string
}

const all = new Set<SshHosts>()
process.on('exit', () => {
  for (const h of all) teardown(h)
})

function run(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
}

/** Every process of a uid, by pid: the host run and the apps the test left. */
function pidsOf(uid: number): number[] {
  const out: number[] = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (fs.statSync(`/proc/${e}`).uid === uid) out.push(Number(e))
    } catch {
      // gone
    }
  }
  return out
}

function teardown(h: SshHosts): void {
  for (const host of h.hosts) {
    try {
      spawnSync(host.node, [PM2_BIN, 'kill', '-s'], { env: hostEnv(host), uid: host.uid, gid: host.gid, cwd: host.home, stdio: 'ignore', timeout: 30_000 })
    } catch {
      // no daemon
    }
    try {
      process.kill(host.sshdPid, 'SIGTERM')
    } catch {
      // gone
    }
    for (const pid of pidsOf(host.uid)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
    spawnSync('userdel', ['-f', host.user], { stdio: 'ignore' })
  }
  fs.rmSync(h.dir, { recursive: true, force: true })
  all.delete(h)
}

function hostEnv(host: Pick<TestHost, 'home' | 'pm2Home' | 'user' | 'node'>, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: host.home, USER: host.user, LOGNAME: host.user, PM2_HOME: host.pm2Home, PATH: `${path.dirname(host.node)}:/usr/local/bin:/usr/bin:/bin`, ...extra }
}

/** Whether a uid can read `file` (every directory on its path searchable): the checkout may be root's alone. */
function readableBy(uid: number, gid: number, file: string): boolean {
  return spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(file)}, require('fs').constants.R_OK)`], { uid, gid, stdio: 'ignore' }).status === 0
}

function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve()
      })
      s.once('error', () => (Date.now() > deadline ? reject(new Error(`sshd did not listen on ${port}`)) : setTimeout(attempt, 50)))
    }
    attempt()
  })
}

async function startHost(h: SshHosts, i: number, opts: HostOptions, clientPub: string): Promise<TestHost> {
  const user = `psd${crypto.randomBytes(3).toString('hex')}${i}`
  const home = path.join(h.dir, `home-${user}`)
  run('useradd', ['-M', '-d', home, '-s', '/bin/sh', user])
  run('usermod', ['-p', '*', user])
  const uid = Number(run('id', ['-u', user]).trim())
  const gid = Number(run('id', ['-g', user]).trim())
  fs.mkdirSync(home, { recursive: true, mode: 0o755 })
  const pm2Home = path.join(home, '.pm2')
  fs.mkdirSync(pm2Home)
  let node = process.execPath
  if (opts.nvm) {
    const bin = path.join(home, 'nvm', 'bin')
    fs.mkdirSync(bin, { recursive: true })
    node = path.join(bin, 'node')
    fs.copyFileSync(process.execPath, node)
    fs.chmodSync(node, 0o755)
    fs.symlinkSync(path.join(h.nodeModules, 'pm2', 'bin', 'pm2'), path.join(bin, 'pm2'))
  }
  fs.mkdirSync(path.join(h.dir, 'auth'), { recursive: true })
  fs.writeFileSync(path.join(h.dir, 'auth', user), clientPub)
  const hostKey = path.join(h.dir, `host-${i}-key`)
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
  const port = await freePort()
  const config = path.join(h.dir, `sshd-${i}.conf`)
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(h.dir, 'auth')}/%u`,
      'UsePAM no',
      'StrictModes no',
      `PidFile ${path.join(h.dir, `sshd-${i}.pid`)}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      `AllowUsers ${user}`,
      'MaxSessions 64',
      'LogLevel ERROR',
      // The nvm-like host: a session PATH with no node and no pm2 on it.
      ...(opts.nvm ? ['SetEnv PATH=/nonexistent-bin'] : [])
    ].join('\n') + '\n'
  )
  fs.mkdirSync('/run/sshd', { recursive: true })
  const sshd = spawn(SSHD, ['-D', '-f', config, '-E', path.join(h.dir, `sshd-${i}.log`)], { stdio: 'ignore', detached: true })
  sshd.unref()
  await waitForPort(port)
  const [type, key] = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/)
  spawnSync('chown', ['-R', `${uid}:${gid}`, home])
  const host: TestHost = {
    user,
    uid,
    gid,
    home,
    pm2Home,
    port,
    label: `${user}@127.0.0.1:${port}`,
    knownHostsLine: `[127.0.0.1]:${port} ${type} ${key}`,
    node,
    sshdPid: sshd.pid!,
    exec: (file, args, extraEnv = {}) =>
      execFileSync(file, args, { env: hostEnv(host, extraEnv), uid, gid, cwd: home, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] }),
    pm2: (args) => host.exec(node, [path.join(h.nodeModules, 'pm2', 'bin', 'pm2'), ...args]),
    jlist: () => JSON.parse(host.pm2(['jlist'])),
    writeFile: (rel, text) => {
      const file = path.resolve(home, rel)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, text)
      spawnSync('chown', ['-R', `${uid}:${gid}`, path.join(home, rel.split('/')[0]!)])
      return file
    }
  }
  host.pm2(['ping'])
  return host
}

/** `n` hosts, torn down after this file's tests. */
export async function startSshHosts(n: number, opts: HostOptions[] = []): Promise<SshHosts> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-sshd-'))
  fs.chmodSync(dir, 0o755)
  const h: SshHosts = { dir, hosts: [], clientKey: '', knownHosts: '', nodeModules: path.join(ROOT, 'node_modules') }
  all.add(h)
  const clientKey = path.join(dir, 'client-key')
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pm2-safe-deploy-test', '-f', clientKey])
  h.clientKey = fs.readFileSync(clientKey, 'utf8')
  const clientPub = fs.readFileSync(`${clientKey}.pub`, 'utf8')
  fs.rmSync(clientKey)
  if (!readableBy(65534, 65534, PM2_BIN)) {
    // The checkout is not readable to other users (CI may clone as root into a private folder): a copy they can read.
    h.nodeModules = path.join(dir, 'node_modules')
    run('cp', ['-a', path.join(ROOT, 'node_modules'), h.nodeModules])
    spawnSync('chmod', ['-R', 'a+rX', h.nodeModules])
  }
  for (let i = 0; i < n; i++) h.hosts.push(await startHost(h, i, opts[i] ?? {}, clientPub))
  h.knownHosts = h.hosts.map((x) => x.knownHostsLine).join('\n') + '\n'
  return h
}

/** The hosts for one test file, torn down in its afterAll. */
export function sshHostsForThisFile(): (n: number, opts?: HostOptions[]) => Promise<SshHosts> {
  const mine: SshHosts[] = []
  afterAll(() => {
    for (const h of mine) teardown(h)
  })
  return async (n, opts) => {
    const h = await startSshHosts(n, opts)
    mine.push(h)
    return h
  }
}

/**
 * The inputs of a deploy of the test app `web` (`web-test`, ~/apps/web on each host) over SSH to
 * `sshHost` (one label, or several lines), through the hosts' own pm2; `extra` adds or overrides.
 */
export function webInputs(h: SshHosts, sshHost: string, releaseDir: string | null, extra: Record<string, string> = {}): Record<string, string> {
  return {
    app: 'web',
    'environment-suffix': '-test',
    ecosystem: 'ecosystem.config.js',
    'current-link': '~/apps/web/current',
    ...(releaseDir === null ? {} : { 'release-dir': releaseDir }),
    'stable-seconds': '2',
    'timeout-seconds': '60',
    'pm2-home': '',
    'pm2-path': path.join(h.nodeModules, '.bin', 'pm2'),
    'ssh-host': sshHost,
    'ssh-key': h.clientKey,
    'ssh-known-hosts': h.knownHosts,
    ...extra
  }
}

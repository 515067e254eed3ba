// Bench 8 (issue 19): a one-host remote deploy over loopback sshd against the same deploy run on
// the host directly (as the host's user, same daemon, same app), alternating; and the bundle bytes
// a second deploy of the same action version uploads. Needs root (a throwaway user) and sshd.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const SSHD = '/usr/sbin/sshd'

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`sshd did not listen on ${port}`)
}

function parseCommandFile(text) {
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^([^=<]+)<<(.+)$/)
    if (!m) continue
    const value = []
    while (++i < lines.length && lines[i] !== m[2]) value.push(lines[i])
    out[m[1]] = value.join('\n')
  }
  return out
}

/** A throwaway user with a PM2 daemon behind its own sshd; `destroy` removes all of it. */
export async function newSshHost(ROOT) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-bench-ssh-'))
  fs.chmodSync(dir, 0o755)
  const user = `psdb${crypto.randomBytes(3).toString('hex')}`
  const home = path.join(dir, 'home')
  execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', user])
  execFileSync('usermod', ['-p', '*', user])
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }))
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }))
  fs.mkdirSync(path.join(home, '.pm2'), { recursive: true })
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client')])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'hostkey')])
  fs.mkdirSync(path.join(dir, 'auth'))
  fs.copyFileSync(path.join(dir, 'client.pub'), path.join(dir, 'auth', user))
  const port = await freePort()
  const config = path.join(dir, 'sshd.conf')
  fs.writeFileSync(
    config,
    [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${path.join(dir, 'hostkey')}`, `AuthorizedKeysFile ${path.join(dir, 'auth')}/%u`, 'UsePAM no', 'StrictModes no', `PidFile ${path.join(dir, 'sshd.pid')}`, `AllowUsers ${user}`, 'LogLevel ERROR'].join('\n') + '\n'
  )
  fs.mkdirSync('/run/sshd', { recursive: true })
  const sshd = spawn(SSHD, ['-D', '-f', config], { stdio: 'ignore', detached: true })
  sshd.unref()
  await waitForPort(port)
  const [type, key] = fs.readFileSync(path.join(dir, 'hostkey.pub'), 'utf8').trim().split(/\s+/)
  const env = { HOME: home, USER: user, PM2_HOME: path.join(home, '.pm2'), PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` }
  const PM2_BIN = path.join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2')
  const host = {
    dir,
    user,
    uid,
    gid,
    home,
    env,
    label: `${user}@127.0.0.1:${port}`,
    knownHosts: `[127.0.0.1]:${port} ${type} ${key}\n`,
    clientKey: fs.readFileSync(path.join(dir, 'client'), 'utf8'),
    chown: () => spawnSync('chown', ['-R', `${uid}:${gid}`, home]),
    pm2: (args) => execFileSync(process.execPath, [PM2_BIN, ...args], { env, uid, gid, cwd: home, encoding: 'utf8', timeout: 120_000 }),
    destroy() {
      spawnSync(process.execPath, [PM2_BIN, 'kill', '-s'], { env, uid, gid, cwd: home, stdio: 'ignore', timeout: 60_000 })
      try {
        process.kill(sshd.pid, 'SIGTERM')
      } catch {
        // gone
      }
      for (const e of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(e)) continue
        try {
          if (fs.statSync(`/proc/${e}`).uid === uid) process.kill(Number(e), 'SIGKILL')
        } catch {
          // gone
        }
      }
      spawnSync('userdel', ['-f', user], { stdio: 'ignore' })
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  host.chown()
  return host
}

let counter = 0
/** The bundled action as a runner runs it: as root (remote, over ssh) or as the host's user (direct). */
export function runStep(MAIN, host, inputs, asHost) {
  const runDir = fs.mkdtempSync(path.join(asHost ? host.home : host.dir, `step-${++counter}-`))
  if (asHost) spawnSync('chown', [`${host.uid}:${host.gid}`, runDir])
  const base = asHost ? { ...host.env } : { PATH: process.env.PATH, HOME: process.env.HOME }
  const env = { ...base, RUNNER_TEMP: path.join(runDir, 'tmp'), GITHUB_WORKSPACE: asHost ? host.home : runDir }
  for (const f of ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    env[f] = path.join(runDir, f.toLowerCase())
    fs.writeFileSync(env[f], '')
    if (asHost) spawnSync('chown', [`${host.uid}:${host.gid}`, env[f]])
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = String(v)
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(process.execPath, [MAIN], { env, cwd: env.GITHUB_WORKSPACE, stdio: ['ignore', 'pipe', 'pipe'], ...(asHost ? { uid: host.uid, gid: host.gid } : {}) })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      if (process.env.BENCH_TRACE) for (const l of String(d).split('\n')) if (l) console.log(`${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0).padStart(6)} ${l.slice(0, 120)}`)
    })
    child.stderr.on('data', (d) => (out += d))
    child.on('close', () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const outputs = parseCommandFile(fs.readFileSync(env.GITHUB_OUTPUT, 'utf8'))
      fs.rmSync(runDir, { recursive: true, force: true })
      if (outputs.result !== 'deployed') return reject(new Error(`${asHost ? 'direct' : 'remote'} deploy ended ${outputs.result}:\n${out.slice(-3000)}`))
      const sent = out.match(/sent the action's bundle \w+ \((\d+) bytes/)
      resolve({ ms, bundleBytes: sent ? Number(sent[1]) : /0 bytes sent/.test(out) ? 0 : null })
    })
  })
}

export async function benchRemote({ ROOT, MAIN, APPS, ROUNDS, row, median }) {
  console.log('8. remote deploy over loopback sshd vs the same deploy on the host')
  if (process.getuid?.() !== 0 || !fs.existsSync(SSHD)) {
    row('Remote deploy over SSH vs the same deploy on the host', 'not run: needs root (a throwaway user) and /usr/sbin/sshd', '≤ 1.15×', 'not run')
    return
  }
  const host = await newSshHost(ROOT)
  try {
    const app = path.join(host.home, 'app')
    fs.mkdirSync(app)
    fs.copyFileSync(path.join(APPS, 'idle.cjs'), path.join(app, 'idle.cjs'))
    fs.writeFileSync(path.join(app, 'ecosystem.config.js'), `module.exports = { apps: ${JSON.stringify(['bench-api', 'bench-worker', 'bench-cron'].map((name) => ({ name, script: 'idle.cjs', cwd: app })))} }\n`)
    for (let i = 0; i < 20; i++) fs.copyFileSync(path.join(APPS, 'idle.cjs'), path.join(app, `other-${i}.cjs`))
    host.chown()
    for (let i = 0; i < 20; i++) host.pm2(['start', path.join(app, `other-${i}.cjs`), '--name', `other-${i}`, '-s'])
    const deploy = { app: 'bench', ecosystem: 'ecosystem.config.js', 'working-directory': app, 'stable-seconds': 2, 'pm2-path': path.join(ROOT, 'node_modules', '.bin', 'pm2'), 'audit-log': 'off' }
    const remote = { ...deploy, 'working-directory': '~/app', 'ssh-host': host.label, 'ssh-key': host.clientKey, 'ssh-known-hosts': host.knownHosts }
    const first = await runStep(MAIN, host, remote, false)
    const second = await runStep(MAIN, host, remote, false)
    await runStep(MAIN, host, deploy, true)
    const direct = []
    const viaSsh = []
    for (let i = 0; i < ROUNDS * 2; i++) {
      direct.push((await runStep(MAIN, host, deploy, true)).ms)
      viaSsh.push((await runStep(MAIN, host, remote, false)).ms)
    }
    const ratio = median(viaSsh) / median(direct)
    row(
      `Remote deploy over loopback SSH vs the same deploy run on the host (3-process app among 20 others, stable-seconds 2; median of ${viaSsh.length} alternating runs)`,
      `${Math.round(median(viaSsh))} ms vs ${Math.round(median(direct))} ms = **${ratio.toFixed(2)}×** (+${Math.round(median(viaSsh) - median(direct))} ms)`,
      '≤ 1.15×',
      ratio <= 1.15 ? 'met' : 'missed'
    )
    row('Bundle bytes uploaded: first deploy to a host / a second deploy of the same action version', `${first.bundleBytes} / **${second.bundleBytes}**`, '0 on the second', second.bundleBytes === 0 ? 'met' : 'missed')
  } finally {
    host.destroy()
  }
}

/** The bundled action's main step over ssh whatever its result: its log, for the lines a bench reads. */
function runStepLog(MAIN, host, inputs, workspace) {
  const runDir = fs.mkdtempSync(path.join(host.dir, `step-${++counter}-`))
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, RUNNER_TEMP: path.join(runDir, 'tmp'), GITHUB_WORKSPACE: workspace }
  for (const f of ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    env[f] = path.join(runDir, f.toLowerCase())
    fs.writeFileSync(env[f], '')
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = String(v)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env, cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', () => {
      fs.rmSync(runDir, { recursive: true, force: true })
      resolve(out)
    })
  })
}

/**
 * Bench 9b (issue 22): the same release uploaded twice to one host over loopback sshd: the bytes
 * and the time of each upload, as the step reports them (`--only upload`). The release is this
 * checkout's node_modules/pm2 (many small files, a few MB), with a .git/ the default exclude keeps out.
 */
export async function benchUpload({ ROOT, MAIN, row }) {
  console.log('9b. the same release uploaded twice over loopback sshd')
  if (process.getuid?.() !== 0 || !fs.existsSync(SSHD)) {
    row('Upload of the same release twice', 'not run: needs root (a throwaway user) and /usr/sbin/sshd', 'report', 'not run')
    return
  }
  const host = await newSshHost(ROOT)
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-bench-release-'))
  try {
    fs.cpSync(path.join(ROOT, 'node_modules', 'pm2'), path.join(src, 'app'), { recursive: true, dereference: true })
    fs.mkdirSync(path.join(src, '.git'))
    fs.writeFileSync(path.join(src, '.git', 'config'), '[core]\n')
    const files = Number(execFileSync('sh', ['-c', `find '${src}' -type f | wc -l`], { encoding: 'utf8' }).trim())
    const uploads = []
    for (const name of ['u1', 'u2']) {
      const out = await runStepLog(MAIN, host, { app: 'bench', 'release-dir': `~/app/releases/${name}`, upload: src, 'upload-exclude': '.git', 'ssh-host': host.label, 'ssh-key': host.clientKey, 'ssh-known-hosts': host.knownHosts, 'audit-log': 'off' }, src)
      const m = out.match(/uploaded \S+ \((\d+) bytes in ([\d.]+) s/)
      if (!m) throw new Error(`no upload line in the step's log:\n${out.slice(-3000)}`)
      uploads.push({ bytes: Number(m[1]), s: Number(m[2]) })
    }
    const [a, b] = uploads
    row(
      `Upload of the same release twice (node_modules/pm2: ${files} files; .git left out), bytes and time of each`,
      `${a.bytes} B in ${a.s.toFixed(1)} s / ${b.bytes} B in ${b.s.toFixed(1)} s`,
      'report',
      'measured'
    )
  } finally {
    fs.rmSync(src, { recursive: true, force: true })
    host.destroy()
  }
}

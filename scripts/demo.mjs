#!/usr/bin/env node
// `npm run demo`: pm2-safe-deploy against a throwaway PM2 daemon.
//
// It starts a private PM2 daemon (a temp PM2_HOME, pm2 from node_modules) with a crowded
// host's apps: a neighbour (stock-alert, clustered, holding a secret in its env, plus a
// stock-alert-test that an endsWith('-test') cleanup would hit), the app's production
// environment (flyer-crawler-api/-worker in namespace flyer-crawler) and its test
// environment (flyer-crawler-api-test/-worker-test). Then it runs the bundled action
// (dist/main/index.js, then dist/post/index.js) exactly as a runner does:
//   1. a guarded deploy of the test environment: succeeds, neighbours untouched;
//   2. an unsafe whitelist whose own name is the namespace of other processes: refused;
//   3. a whitelist entry PM2 would read as a regex: refused.
// It prints each job summary, and always kills its daemon (`pm2 kill` on its own
// PM2_HOME) and removes its temp dir: on success, on error and on Ctrl-C.
//
//   node scripts/demo.mjs [--verbose]   (--verbose also prints the action's full log)
/* global fetch */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PM2_BIN = path.join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2')
const PM2_PATH_INPUT = path.join(ROOT, 'node_modules', '.bin', 'pm2')
const MAIN = path.join(ROOT, 'dist', 'main', 'index.js')
const POST = path.join(ROOT, 'dist', 'post', 'index.js')
const VERBOSE = process.argv.includes('--verbose')
const SECRET = 'demo-secret-3c9f1e7a-never-in-a-report'

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)
const say = (s = '') => process.stdout.write(s + '\n')
const rule = (title) => say('\n' + bold(`━━━━ ${title} ${'━'.repeat(Math.max(4, 72 - title.length))}`))

for (const [file, fix] of [
  [PM2_BIN, 'run `npm ci` first'],
  [MAIN, 'run `npm run bundle` first'],
  [POST, 'run `npm run bundle` first']
]) {
  if (!fs.existsSync(file)) {
    console.error(`demo: ${path.relative(ROOT, file)} is missing: ${fix}.`)
    process.exit(1)
  }
}

// ── The throwaway daemon and its cleanup ───────────────────────────────────────────
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2-safe-deploy-demo-'))
const home = path.join(dir, 'pm2home')
fs.mkdirSync(home)

/** The environment for every pm2 call and action run: none of the runner's own variables, this PM2_HOME. */
function baseEnv(extra = {}) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue
    if (/^(INPUT_|STATE_|ACTIONS_|GITHUB_|RUNNER_)/.test(k) || k === 'name' || k === 'namespace' || k === 'pm_id' || k === 'PM2_HOME') continue
    env[k] = v
  }
  return { ...env, PM2_HOME: home, ...extra }
}

function pm2(args, { env = {}, cwd = dir } = {}) {
  const r = spawnSync(process.execPath, [PM2_BIN, ...args], { env: baseEnv(env), cwd, encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0) throw new Error(`pm2 ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim().slice(-500)}`)
  return r.stdout
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function readDaemonPid() {
  try {
    return Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim()) || 0
  } catch {
    return 0
  }
}

/** True while the process exists and is not a zombie waiting to be reaped. */
function running(pid) {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return err.code === 'EPERM'
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

let child = null
let cleanedUp = false
/** Kills this demo's daemon by its PM2_HOME (never any other) and removes the temp dir. */
function cleanup() {
  if (cleanedUp) return true
  cleanedUp = true
  let ok = true
  const daemonPid = readDaemonPid()
  // `pm2 kill` would start a daemon if none ran: only call it when ours is there.
  if (fs.existsSync(path.join(home, 'rpc.sock')) || daemonPid) {
    const r = spawnSync(process.execPath, [PM2_BIN, 'kill', '-s'], { env: baseEnv(), cwd: dir, stdio: 'ignore', timeout: 30_000 })
    if (r.status !== 0) {
      ok = false
      console.error(`demo: \`pm2 kill\` for PM2_HOME=${home} exited ${r.status}: check for a leftover daemon.`)
    }
  }
  // `pm2 kill` returns as the daemon shuts down: wait until it has exited.
  for (let i = 0; daemonPid && running(daemonPid) && i < 100; i++) sleepSync(100)
  if (daemonPid && running(daemonPid)) {
    ok = false
    console.error(`demo: the daemon (pid ${daemonPid}, PM2_HOME=${home}) still runs after \`pm2 kill\`.`)
  }
  for (let i = 0; i < 5; i++) {
    try {
      fs.rmSync(dir, { recursive: true, force: true })
      break
    } catch {
      // a file still being written by a process that is exiting: try again
      sleepSync(200)
    }
  }
  say(`Daemon killed (pm2 kill, PM2_HOME=${home}); ${fs.existsSync(dir) ? `could not remove ${dir}` : `removed ${dir}`}.`)
  return ok
}

async function interrupted(signal) {
  say(`\n${signal}: stopping the demo.`)
  if (child && child.exitCode === null) {
    child.kill('SIGTERM')
    await Promise.race([new Promise((r) => child.once('close', r)), new Promise((r) => setTimeout(r, 5000))])
  }
  cleanup()
  process.exit(130)
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => void interrupted(signal))
process.once('uncaughtException', (err) => {
  console.error(err)
  cleanup()
  process.exit(1)
})

// ── A runner, imitated ─────────────────────────────────────────────────────────────
/** Reads GITHUB_OUTPUT / GITHUB_STATE: `name=value` and `name<<DELIM … DELIM`. */
function parseCommandFile(text) {
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = lines[i].match(/^([^=<]+)<<(.+)$/)
    if (heredoc) {
      const value = []
      while (++i < lines.length && lines[i] !== heredoc[2]) value.push(lines[i])
      out[heredoc[1]] = value.join('\n')
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return out
}

function runNode(script, env, cwd) {
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    child.stdout.on('data', (d) => (log += d))
    child.stderr.on('data', (d) => (log += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? 1, log }))
  })
}

let runNo = 0
/** Runs the action's main step, then its post step, the way a runner does. */
async function runAction(inputs, stepEnv = {}) {
  const runner = path.join(dir, `runner-${++runNo}`)
  fs.mkdirSync(path.join(runner, 'temp'), { recursive: true })
  const files = {
    GITHUB_OUTPUT: path.join(runner, 'output'),
    GITHUB_STATE: path.join(runner, 'state'),
    GITHUB_STEP_SUMMARY: path.join(runner, 'summary.md'),
    GITHUB_ENV: path.join(runner, 'env'),
    GITHUB_PATH: path.join(runner, 'path')
  }
  for (const f of Object.values(files)) fs.writeFileSync(f, '')
  const env = {
    ...baseEnv(),
    ...files,
    ...stepEnv,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/flyer-crawler',
    GITHUB_WORKFLOW: 'deploy-to-test',
    GITHUB_RUN_ID: String(4700 + runNo),
    GITHUB_RUN_NUMBER: String(runNo),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'deploy',
    GITHUB_SERVER_URL: 'https://git.example.com',
    GITHUB_WORKSPACE: path.join(dir, 'release'),
    GITHUB_SHA: '9c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d',
    GITHUB_ACTOR: 'demo',
    RUNNER_NAME: 'demo-runner',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: path.join(runner, 'temp'),
    // The real runner sets this and kills every process carrying it at job end: the action strips it.
    RUNNER_TRACKING_ID: 'github_demo_tracking_id'
  }
  delete env.PM2_HOME // the action finds the daemon through its pm2-home input
  for (const [name, value] of Object.entries({ 'pm2-path': PM2_PATH_INPUT, 'pm2-home': home, ...inputs })) {
    env[`INPUT_${name.toUpperCase()}`] = value
  }
  const main = await runNode(MAIN, env, env.GITHUB_WORKSPACE)
  const outputs = parseCommandFile(fs.readFileSync(files.GITHUB_OUTPUT, 'utf8'))
  const postEnv = { ...baseEnv() }
  delete postEnv.PM2_HOME
  for (const [k, v] of Object.entries(parseCommandFile(fs.readFileSync(files.GITHUB_STATE, 'utf8')))) postEnv[`STATE_${k}`] = v
  const post = await runNode(POST, postEnv, runner)
  child = null
  return { code: main.code, log: main.log, postCode: post.code, outputs, summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'), runner }
}

function show(run) {
  if (VERBOSE) say(run.log)
  // The workflow metadata at the end of the summary is folded on a job page: fold it here too.
  const folded = VERBOSE ? -1 : run.summary.indexOf('<details>')
  say(folded >= 0 ? `${run.summary.slice(0, folded).trimEnd()}\n\n(workflow metadata folded: --verbose shows it and the action's log)` : run.summary.trimEnd())
  say('')
  say(`exit code ${run.code} · result=${run.outputs.result} · violations=${run.outputs.violations} · post step exit ${run.postCode}`)
}

// ── Sample apps ────────────────────────────────────────────────────────────────────
const APP = `// A sample app: an HTTP server when PORT is set, else an idle worker.
const http = require('node:http')
const role = process.env.ROLE || 'worker'
const release = process.env.RELEASE || '?'
if (process.env.PORT) {
  http.createServer((req, res) => res.end(\`ok \${role} release \${release}\\n\`)).listen(Number(process.env.PORT), '127.0.0.1')
} else {
  setInterval(() => {}, 1 << 30)
}
console.log(\`\${role} \${process.pid} up, release \${release}\`)
`

function writeApps(port) {
  for (const sub of ['prod', 'release', 'stock-alert']) {
    fs.mkdirSync(path.join(dir, sub))
    fs.writeFileSync(path.join(dir, sub, 'app.cjs'), APP)
  }
  fs.writeFileSync(
    path.join(dir, 'prod', 'ecosystem.config.cjs'),
    `module.exports = { apps: [
  { name: 'flyer-crawler-api', script: './app.cjs', namespace: 'flyer-crawler', env: { ROLE: 'api' } },
  { name: 'flyer-crawler-worker', script: './app.cjs', namespace: 'flyer-crawler', env: { ROLE: 'worker' } }
] }
`
  )
  fs.writeFileSync(
    path.join(dir, 'release', 'ecosystem-test.config.cjs'),
    `// The test environment of flyer-crawler: the app being deployed. A reload from an
// ecosystem file updates only the env declared here: pass step variables through it.
module.exports = { apps: [
  { name: 'flyer-crawler-api-test', script: './app.cjs', env: { ROLE: 'api', PORT: '${port}', RELEASE: process.env.RELEASE } },
  { name: 'flyer-crawler-worker-test', script: './app.cjs', env: { ROLE: 'worker', RELEASE: process.env.RELEASE } }
] }
`
  )
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** name → "pm_id:pid:restarts:status", for every process (no env is kept). */
/** The runner escapes of a command's data and properties, undone: the annotation as a person reads it (display only). */
const unescapeData = (s) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
const unescapeProperty = (s) => unescapeData(s.replace(/%3A/g, ':').replace(/%2C/g, ','))

/** The run's `::error` annotation as GitHub shows it: its title, then its message line by line. */
function annotation(log) {
  const line = log.split('\n').find((l) => l.startsWith('::error '))
  const m = line?.match(/^::error (.*?)::(.*)$/)
  if (!m) return '(no annotation)'
  const title = /(?:^|,)title=([^,]*)/.exec(m[1])?.[1]
  const body = unescapeData(m[2]).split(/\r?\n/).map((l) => `  ${l}`)
  return [`Error annotation: ${title ? unescapeProperty(title) : '(no title)'}`, ...body].join('\n')
}

function fingerprint() {
  const list = JSON.parse(pm2(['-s', 'jlist']))
  return Object.fromEntries(
    list.map((p) => [`${p.name}#${p.pm_id}`, { name: p.name, namespace: p.pm2_env.namespace, status: p.pm2_env.status, pid: p.pid, restarts: p.pm2_env.restart_time }])
  )
}

async function waitOnline(count, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ps = Object.values(fingerprint())
    if (ps.length === count && ps.every((p) => p.status === 'online' && p.pid > 0)) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`the sample apps did not come online within ${timeoutMs / 1000} s`)
}

function printTable(fp) {
  const rows = [['name', 'namespace', 'status', 'pid', '↻'], ...Object.values(fp).map((p) => [p.name, p.namespace, p.status, String(p.pid), String(p.restarts)])]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows) say('  ' + r.map((c, i) => c.padEnd(widths[i])).join('  '))
}

// ── The demo ───────────────────────────────────────────────────────────────────────
async function demo() {
  const failures = []
  const expect = (ok, what) => {
    say(`${ok ? '✔' : '✘'} ${what}`)
    if (!ok) failures.push(what)
  }

  rule('A throwaway PM2 daemon with a crowded host')
  say(`PM2_HOME: ${home}`)
  const port = await freePort()
  writeApps(port)
  pm2(['-s', 'start', path.join(dir, 'stock-alert', 'app.cjs'), '--name', 'stock-alert', '--namespace', 'stock-alert', '-i', '2'], {
    env: { ROLE: 'stock-alert', STOCK_ALERT_API_KEY: SECRET },
    cwd: path.join(dir, 'stock-alert')
  })
  say(`daemon pid: ${readDaemonPid()}`)
  pm2(['-s', 'start', path.join(dir, 'stock-alert', 'app.cjs'), '--name', 'stock-alert-test'], { env: { ROLE: 'stock-alert-test' }, cwd: path.join(dir, 'stock-alert') })
  pm2(['-s', 'start', 'ecosystem.config.cjs'], { cwd: path.join(dir, 'prod'), env: { RELEASE: '41' } })
  pm2(['-s', 'start', 'ecosystem-test.config.cjs'], { cwd: path.join(dir, 'release'), env: { RELEASE: '1' } })
  await waitOnline(7)
  const before = fingerprint()
  printTable(before)
  const neighbours = (fp) => JSON.stringify(Object.entries(fp).filter(([, p]) => !p.name.startsWith('flyer-crawler-') || !p.name.endsWith('-test')))

  rule('1. Guarded deploy of flyer-crawler -test (release 2)')
  say('inputs: app=flyer-crawler  environment-suffix=-test  ecosystem=ecosystem-test.config.cjs  strategy=reload  health-url=/')
  const ok = await runAction(
    {
      app: 'flyer-crawler',
      'environment-suffix': '-test',
      ecosystem: 'ecosystem-test.config.cjs',
      'working-directory': path.join(dir, 'release'),
      'health-url': `http://127.0.0.1:${port}/`,
      'stable-seconds': '2',
      'timeout-seconds': '60'
    },
    { RELEASE: '2' }
  )
  show(ok)
  const answer = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), (e) => `no answer (${e.message})`)
  say(`flyer-crawler-api-test answers: ${answer.trim()}`)
  expect(ok.code === 0 && ok.outputs.result === 'deployed', 'the guarded deploy succeeded')
  expect(answer.includes('release 2'), 'the test environment runs release 2')
  const afterDeploy = fingerprint()
  expect(neighbours(afterDeploy) === neighbours(before), 'every other process kept its pid, restarts and status')

  rule('2. Unsafe: a whitelist entry that is the namespace of other processes')
  say('inputs: app=flyer-crawler  environment-suffix=""  whitelist=flyer-crawler')
  say('`pm2 reload flyer-crawler` finds no process of that name and falls back to the namespace: both production processes.')
  const ns = await runAction({ app: 'flyer-crawler', whitelist: 'flyer-crawler' })
  show(ns)
  expect(ns.code === 1 && ns.outputs.result === 'aborted', 'refused before sending any command (result=aborted, exit 1)')

  rule('3. Unsafe: a whitelist entry PM2 would read as a regex')
  say('inputs: app=flyer-crawler  environment-suffix=-test  whitelist=/flyer-crawler-.*/')
  const rx = await runAction({ app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: '/flyer-crawler-.*/' })
  if (VERBOSE) say(rx.log)
  say(annotation(rx.log))
  expect(rx.code === 1 && rx.outputs.result === 'aborted', 'refused (result=aborted, exit 1)')

  rule('After all three runs')
  const end = fingerprint()
  printTable(end)
  expect(neighbours(end) === neighbours(before), 'stock-alert, stock-alert-test and production are exactly as before')
  const leaked = fs
    .readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    // PM2's own files (its dump, the apps' logs) are PM2's business; the action's audit log and lock are ours.
    .filter((f) => !f.startsWith(home + path.sep) || /\.(jsonl|lock)$/.test(f))
    .filter((f) => fs.statSync(f).isFile() && fs.readFileSync(f, 'utf8').includes(SECRET))
  expect(leaked.length === 0 && ![ok, ns, rx].some((r) => r.log.includes(SECRET)), "stock-alert's secret env value is in no log, summary, snapshot or report")
  return failures
}

let failures = ['the demo did not finish']
try {
  failures = await demo()
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  rule('Cleanup')
  if (!cleanup()) failures.push('the daemon could not be killed')
}
if (failures.length > 0) {
  console.error(`\ndemo: ${failures.length} expectation(s) failed:\n- ${failures.join('\n- ')}`)
  process.exit(1)
}
say('\nDemo complete: nothing is left running.')

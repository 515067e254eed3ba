// The host's side of a remote deploy (dist/host/index.js, run with the node the PM2 daemon runs).
// `start` writes a run directory from the inputs on stdin and detaches a supervisor (its own
// session, no tty: a dropped connection does not stop it) that runs the same main bundle a runner
// runs, with the run directory's files as GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY,
// then the post bundle if the main step died. `follow`, `result` and `cancel` read that directory.
// Nothing here knows the deploy: it is the runner around run(), on the host.
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseCommandFile } from '../core/command-file.js'
import { findOnPath } from '../shell/which.js'
import { CACHE_DIR } from './bundle.js'
import { HOST_PATH_INPUTS, RUN_NAME, type StartPayload, type HostRunResult, type CancelAnswer, type ClaimAnswer, type UploadAnswer } from './protocol.js'

const home = () => process.env.HOME || '/'
const runsRoot = () => path.join(home(), CACHE_DIR, 'runs')
/** Uploads wait here, outside every directory a deploy may use, until the run moves one into release-dir (promise 15). */
const stagingRoot = () => path.join(home(), CACHE_DIR, 'staging')
/** An upload no run took after a day is left over from a job that ended: removed. */
const STAGING_MAX_AGE_MS = 24 * 3600_000
/** How often `follow` says it is alive while the log is quiet: a quiet host is not a lost one. */
const HEARTBEAT_MS = 10_000
/** How long `cancel` waits for a signalled main step to end, to answer what it did. */
const CANCEL_WAIT_MS = 8000
/** The bundle this agent belongs to: dist/host/index.js → the directory holding main/, post/, reader/. */
const bundleRoot = () => path.resolve(path.dirname(process.argv[1]!), '..')
const KEEP_RUNS = 30

const F = {
  inputs: 'inputs.json',
  log: 'log',
  output: 'output',
  state: 'state',
  summary: 'summary.md',
  mainPid: 'main.pid',
  mainExit: 'main.exit',
  done: 'done',
  cancel: 'cancel',
  neverStarted: 'never-started'
} as const

/** A leading `~/` means the SSH user's home (promise 12). */
function expandHome(value: string): string {
  return value === '~' ? home() : value.startsWith('~/') ? path.join(home(), value.slice(2)) : value
}

/** The runs this user's cache keeps: the newest KEEP_RUNS (finished ones only are removed). */
function pruneRuns(): void {
  let names: string[] = []
  try {
    names = fs.readdirSync(runsRoot()).sort()
  } catch {
    return
  }
  for (const name of names.slice(0, Math.max(0, names.length - KEEP_RUNS))) {
    const dir = path.join(runsRoot(), name)
    if (fs.existsSync(path.join(dir, F.done))) fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** pm2 from the daemon when `pm2-path` is the default and the session's PATH has none (nvm): beside its node, or on its PATH. */
function daemonPm2(pm2Home: string): string | null {
  try {
    const pid = fs.readFileSync(path.join(pm2Home, 'pm2.pid'), 'utf8').trim()
    const exe = fs.readlinkSync(`/proc/${pid}/exe`)
    const beside = findOnPath('pm2', path.dirname(exe))
    if (beside) return beside
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    const daemonPath = environ.find((e) => e.startsWith('PATH='))?.slice(5)
    return findOnPath('pm2', daemonPath)
  } catch {
    return null
  }
}

function readStdin(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    process.stdin.on('data', (c: Buffer) => chunks.push(c))
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)))
    process.stdin.on('error', reject)
  })
}

/** The inputs as the host's run() reads them: `~/` expanded, pm2 found from the daemon when needed. */
function hostInputs(inputs: Record<string, string>, searchPath: string): { inputs: Record<string, string>; pm2: string | null } {
  const out = { ...inputs }
  for (const name of HOST_PATH_INPUTS) if (out[name]) out[name] = expandHome(out[name].trim())
  const pm2Input = (out['pm2-path'] ?? '').trim() || 'pm2'
  let pm2 = pm2Input.includes('/') ? pm2Input : findOnPath(pm2Input, searchPath)
  if (!pm2 && pm2Input === 'pm2') {
    const pm2Home = path.resolve(expandHome(out['pm2-home']?.trim() || process.env.PM2_HOME || path.join(home(), '.pm2')))
    pm2 = daemonPm2(pm2Home)
    if (pm2) out['pm2-path'] = pm2
  }
  return { inputs: out, pm2 }
}

/** The environment of the host's main step: the session's (no SSH_*), the job's metadata, the inputs, the run's own files. */
function stepEnv(dir: string, payload: StartPayload, inputs: Record<string, string>, searchPath: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(SSH_|INPUT_|STATE_|GITHUB_|GITEA_|FORGEJO_|RUNNER_|ACTIONS_)/.test(k)) env[k] = v
  Object.assign(env, payload.env)
  // ssh-env: the step's variables, as a self-hosted runner's step env reaches run() (promise 7 passes them to pm2).
  Object.assign(env, payload.stepEnv ?? {})
  env.PATH = searchPath
  env.GITHUB_WORKSPACE = home()
  env.RUNNER_TEMP = path.join(dir, 'tmp')
  env.GITHUB_OUTPUT = path.join(dir, F.output)
  env.GITHUB_STATE = path.join(dir, F.state)
  env.GITHUB_STEP_SUMMARY = path.join(dir, F.summary)
  env.GITHUB_ENV = path.join(dir, 'env')
  env.GITHUB_PATH = path.join(dir, 'path')
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  // The host deploys locally: an empty ssh-host there is the self-hosted mode.
  env['INPUT_SSH-HOST'] = ''
  return env
}

async function start(): Promise<void> {
  const payload = JSON.parse((await readStdin()).toString()) as StartPayload
  fs.mkdirSync(runsRoot(), { recursive: true, mode: 0o700 })
  pruneRuns()
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const name = RUN_NAME.test(payload.run ?? '') ? payload.run : `${stamp}-${payload.tag.replace(/[^\w.-]/g, '_').slice(0, 80)}-${crypto.randomBytes(4).toString('hex')}`
  const dir = path.join(runsRoot(), name)
  try {
    // Exclusive: a runner that lost the start's answer may have claimed the name (then this run never starts).
    fs.mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') fail(`the run ${name} was claimed before it started (the runner lost the connection): nothing was started`, 5)
    throw err
  }
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true, mode: 0o700 })
  const searchPath = [path.dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter)
  const { inputs, pm2 } = hostInputs(payload.inputs, searchPath)
  for (const f of [F.output, F.state, F.summary, 'env', 'path', F.log]) fs.writeFileSync(path.join(dir, f), '', { mode: 0o600 })
  fs.writeFileSync(path.join(dir, F.inputs), JSON.stringify(stepEnv(dir, payload, inputs, searchPath)), { mode: 0o600 })
  const log = fs.openSync(path.join(dir, F.log), 'a')
  const main = path.join(bundleRoot(), 'main', 'index.js')
  // Its own session (detached: setsid), no tty: a dropped connection does not reach it.
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'pm2-safe-deploy', process.execPath, main, process.argv[1]!, dir], { detached: true, stdio: ['ignore', log, log], cwd: home() })
  child.unref()
  await frame('S', Buffer.from(JSON.stringify({ runDir: dir, node: process.execPath, version: process.version, pm2, supervisor: child.pid })))
  await follow(dir, 0)
}

/** One frame of the stream the runner reads: a kind letter and a byte count on a line, then the bytes (FRAME in protocol.ts). */
function frame(kind: 'S' | 'L' | 'R' | 'K', data: Buffer): Promise<void> {
  const out = Buffer.concat([Buffer.from(`${kind}${data.length}\n`), data])
  return new Promise<void>((resolve) => (process.stdout.write(out) ? resolve() : process.stdout.once('drain', resolve)))
}

/** Runs one bundle entry with the step environment, its output appended to the run's log. */
function runEntry(dir: string, entry: 'post', env: Record<string, string>): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const log = fs.openSync(path.join(dir, F.log), 'a')
    const child = spawn(process.execPath, [path.join(bundleRoot(), entry, 'index.js')], { env, cwd: env.GITHUB_WORKSPACE, stdio: ['ignore', log, log] })
    child.on('error', (err) => {
      fs.appendFileSync(path.join(dir, F.log), `pm2-safe-deploy host: could not start ${entry}: ${err.message}\n`)
      resolve({ code: 127, signal: null })
    })
    child.on('close', (code, signal) => {
      fs.closeSync(log)
      resolve({ code, signal })
    })
  })
}

/**
 * The supervisor, a sh process in its own session: runs the main bundle as a runner runs a main
 * step (exec-main: its pid in main.pid, for a cancel), records its exit code, runs the post step's work when
 * main did not end on its own (killed: a lock left behind), then marks the run done. sh, not node:
 * it starts in a millisecond.
 */
const SUPERVISOR = `
n=$1 main=$2 agent=$3 d=$4
if [ -e "$d/${F.cancel}" ]; then
  printf '%s\\n' '::error title=Deploy cancelled::The job was cancelled before the deploy started on this host: nothing was changed.'
  code=1
else
  "$n" "$agent" exec-main "$d" "$main"
  code=$?
fi
printf '{"code":%s}\\n' "$code" > "$d/${F.mainExit}"
case $code in 0|1) ;; *) "$n" "$agent" post-after "$d" ;; esac
: > "$d/${F.inputs}"
printf 'done\\n' > "$d/${F.done}"
`

/**
 * The main step, in this process: the step's environment from the run directory (dash drops the
 * `INPUT_ENVIRONMENT-SUFFIX` kind of name, so it does not pass through the supervisor), then the
 * main bundle imported as if node had been started on it. One node start instead of two.
 */
async function execMain(dir: string, main: string): Promise<void> {
  const env = JSON.parse(fs.readFileSync(path.join(dir, F.inputs), 'utf8')) as Record<string, string>
  for (const k of Object.keys(process.env)) delete process.env[k]
  Object.assign(process.env, env)
  process.chdir(env.GITHUB_WORKSPACE ?? home())
  fs.writeFileSync(path.join(dir, F.mainPid), String(process.pid))
  // After main.pid: a cancel that found no pid wrote its marker first, so one of the two sees the other.
  if (fs.existsSync(path.join(dir, F.cancel))) {
    process.stdout.write('::error title=Deploy cancelled::The job was cancelled before the deploy started on this host: nothing was changed.\n')
    process.exit(1)
  }
  process.argv[1] = main
  await import(/* webpackIgnore: true */ pathToFileURL(main).href)
}

/** The post step's work for a main step that was killed: the post bundle with the saved state, as a runner runs it. */
async function postAfter(dir: string): Promise<void> {
  const env = JSON.parse(fs.readFileSync(path.join(dir, F.inputs), 'utf8')) as Record<string, string>
  const state = parseCommandFile(fs.readFileSync(path.join(dir, F.state), 'utf8'))
  for (const [k, v] of Object.entries(state)) env[`STATE_${k}`] = v
  await runEntry(dir, 'post', env)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Streams the run's log from byte `offset` (L frames) until the run is done and every byte is out, then its result (an R frame). */
async function follow(dir: string, offset: number): Promise<void> {
  const logFile = path.join(dir, F.log)
  let at = offset
  let wake: (() => void) | null = null
  let sent = Date.now()
  const watcher = fs.watch(dir, () => wake?.())
  process.stdout.on('error', () => process.exit(0))
  try {
    for (;;) {
      const done = fs.existsSync(path.join(dir, F.done))
      // A run claimed while it was being created has no log yet for a moment.
      const size = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0
      if (size > at) {
        sent = Date.now()
        const fd = fs.openSync(logFile, 'r')
        const buf = Buffer.alloc(Math.min(size - at, 1 << 20))
        const n = fs.readSync(fd, buf, 0, buf.length, at)
        fs.closeSync(fd)
        at += n
        await frame('L', buf.subarray(0, n))
        continue
      }
      if (done) return await frame('R', Buffer.from(JSON.stringify(resultOf(dir))))
      if (Date.now() - sent >= HEARTBEAT_MS) {
        sent = Date.now()
        await frame('K', Buffer.alloc(0))
      }
      await Promise.race([sleep(250), new Promise<void>((r) => (wake = r))])
    }
  } finally {
    watcher.close()
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

function readJson<T>(file: string): T | null {
  const text = readText(file)
  try {
    return text ? (JSON.parse(text) as T) : null
  } catch {
    return null
  }
}

/** The main step's exit: a shell's code, 128 + the signal's number when it was killed. */
function mainExit(dir: string): HostRunResult['main'] {
  const raw = readJson<{ code: number }>(path.join(dir, F.mainExit))
  if (!raw) return null
  return raw.code > 128 ? { code: null, signal: `signal ${raw.code - 128}` } : { code: raw.code, signal: null }
}

function resultOf(dir: string): HostRunResult {
  const outputs = parseCommandFile(readText(path.join(dir, F.output)))
  const state = parseCommandFile(readText(path.join(dir, F.state)))
  const report = outputs.report ? readJson<{ release?: unknown }>(outputs.report) : null
  const answer: HostRunResult = {
    done: fs.existsSync(path.join(dir, F.done)),
    main: mainExit(dir),
    outputs,
    summary: readText(path.join(dir, F.summary)),
    releaseSwitch: state['release-switch'] ? JSON.parse(state['release-switch']) : null,
    commandsStarted: state['commands-started'] ? (JSON.parse(state['commands-started']) as string[]).length : 0,
    release: (report?.release ?? null) as HostRunResult['release']
  }
  return answer
}

/** Whether the run had switched the release or sent a pm2 command: past the point a cancel stops. */
function pastSwitch(dir: string): boolean {
  const state = parseCommandFile(readText(path.join(dir, F.state)))
  return Boolean(state['release-switch'] || (state['commands-started'] && state['commands-started'] !== '[]'))
}

/**
 * Before the release switch (or the first pm2 command without one) the deploy is stopped; after
 * it, left to finish. The marker comes first (a main step that has not written its pid yet sees
 * it); the answer is what the run did, read after the signalled main step ended.
 */
async function cancel(dir: string): Promise<void> {
  const say = (a: CancelAnswer): void => void process.stdout.write(JSON.stringify(a) + '\n')
  if (fs.existsSync(path.join(dir, F.done))) return say({ state: 'done' })
  fs.writeFileSync(path.join(dir, F.cancel), '')
  if (pastSwitch(dir)) return say({ state: 'past-switch' })
  const pid = Number(readText(path.join(dir, F.mainPid)).trim())
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGINT')
    } catch {
      // already gone
    }
    const until = Date.now() + CANCEL_WAIT_MS
    while (Date.now() < until && !fs.existsSync(path.join(dir, F.mainExit))) await sleep(100)
  }
  say({ state: pastSwitch(dir) ? 'past-switch' : 'stopped' })
}

/** `claim <name>`: the run of that name, or proof it never starts (its name taken before a late `start` could take it). */
function claim(name: string): void {
  if (!RUN_NAME.test(name)) fail(`not a run name: ${name}`)
  fs.mkdirSync(runsRoot(), { recursive: true, mode: 0o700 })
  const dir = path.join(runsRoot(), name)
  const say = (a: ClaimAnswer): void => void process.stdout.write(JSON.stringify(a) + '\n')
  try {
    fs.mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return say(fs.existsSync(path.join(dir, F.neverStarted)) ? { state: 'never-started' } : { state: 'started', runDir: dir })
  }
  fs.writeFileSync(path.join(dir, F.neverStarted), '')
  fs.writeFileSync(path.join(dir, F.done), 'done\n')
  say({ state: 'never-started' })
}

/** Uploads older than a day that no run took (their job ended): removed. */
function pruneStaging(): void {
  let names: string[] = []
  try {
    names = fs.readdirSync(stagingRoot())
  } catch {
    return
  }
  for (const name of names) {
    const p = path.join(stagingRoot(), name)
    try {
      if (Date.now() - fs.lstatSync(p).mtimeMs > STAGING_MAX_AGE_MS) fs.rmSync(p, { recursive: true, force: true })
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * `upload`: a tar stream on stdin, unpacked into a new directory under ~/.cache/pm2-safe-deploy/staging
 * (inside no directory a deploy may use), with this user's umask and ownership. The run moves it
 * into release-dir after its checks (promise 15); this never touches release-dir.
 */
async function upload(): Promise<void> {
  const tar = findOnPath('tar', [process.env.PATH ?? '', '/usr/bin', '/bin'].join(path.delimiter))
  if (!tar) fail('the host has no `tar`: install it, or copy the release to the host another way and leave upload empty')
  let dir: string
  try {
    fs.mkdirSync(stagingRoot(), { recursive: true, mode: 0o700 })
    pruneStaging()
    dir = fs.mkdtempSync(path.join(stagingRoot(), `${new Date().toISOString().replace(/[:.]/g, '-')}-`))
  } catch (err) {
    fail(`cannot make a staging directory for the upload in ${stagingRoot()}: ${(err as Error).message}; nothing was changed`)
  }
  let err = ''
  const code = await new Promise<number>((resolve) => {
    // stdin straight to tar; as root too, modes get the umask and files this user (not the archive's).
    const child = spawn(tar!, ['-x', '-f', '-', '-C', dir, '--no-same-owner', '--no-same-permissions'], { stdio: ['inherit', 'ignore', 'pipe'] })
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)))
    child.on('error', (e) => {
      err = e.message
      resolve(127)
    })
    child.on('close', (c) => resolve(c ?? 1))
  })
  if (code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true })
    fail(`unpacking the upload failed (tar exit ${code}): ${err.trim().split('\n').slice(-3).join(' / ')}; nothing was changed`)
  }
  const answer: UploadAnswer = { staged: dir }
  process.stdout.write(JSON.stringify(answer) + '\n')
}

function fail(message: string, code = 3): never {
  process.stderr.write(message + '\n')
  process.exit(code)
}

export async function agent(argv: readonly string[]): Promise<void> {
  const [command, dir, arg] = argv
  if (command === 'claim') return claim(dir ?? '')
  if (dir !== undefined && (!path.isAbsolute(dir) || !path.resolve(dir).startsWith(runsRoot() + path.sep))) fail(`not a run directory of this user: ${dir}`)
  switch (command) {
    case 'start':
      return start()
    case 'post-after':
      return postAfter(dir!)
    case 'exec-main':
      return execMain(dir!, arg!)
    case 'follow':
      return follow(dir!, Number(arg ?? 0))
    case 'result':
      return void process.stdout.write(JSON.stringify(resultOf(dir!)) + '\n')
    case 'cancel':
      return cancel(dir!)
    case 'upload':
      return upload()
    default:
      fail(`usage: node dist/host/index.js start|follow|result|cancel|claim|upload …`)
  }
}

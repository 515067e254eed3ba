// Runs the bundled main step in the background, as a runner does, so a test can watch
// it, signal it (SIGTERM as a cancelled job, SIGKILL as a killed runner) and run the
// post step after it. Also reads the audit log, each line validated with zod.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { AuditRecordSchema, type AuditRecord } from '../../src/shell/audit.js'
import { APPS, TestDaemon } from './daemon.js'
import { jobEnv, MAIN, parseCommandFile, stepEnv, type ActionRun, type RunnerKind, type RunOptions } from './run-action.js'

export interface StartedAction {
  child: ChildProcess
  pid: number
  runnerDir: string
  jobEnv: Record<string, string>
  runner: RunnerKind
  stdout(): string
  /** Outputs and state as written so far (state is written before the lock is taken). */
  state(): Record<string, string>
  done: Promise<ActionRun>
}

let counter = 0

/** `nodeArgs` go before the bundle (e.g. `--require` of a test hook such as helpers/stop-at.cjs). */
export function startAction(opts: RunOptions & { runId: string; nodeArgs?: string[] }): StartedAction {
  const runnerDir = path.join(opts.baseDir, `bg-${process.pid}-${++counter}`)
  fs.mkdirSync(runnerDir, { recursive: true })
  const runner = opts.runner ?? 'github'
  const job = jobEnv({ ...opts, env: { GITHUB_RUN_ID: opts.runId, ...opts.env } }, runnerDir)
  const env = stepEnv(job, path.join(runnerDir, 'main'), runner)
  const child = spawn(opts.node ?? process.execPath, [...(opts.nodeArgs ?? []), MAIN], { env, cwd: opts.cwd ?? runnerDir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000)
  const read = (name: string) => parseCommandFile(fs.readFileSync(env[name]!, 'utf8'))
  const done = new Promise<ActionRun>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        outputs: read('GITHUB_OUTPUT'),
        state: read('GITHUB_STATE'),
        summary: fs.readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
        runnerDir,
        jobEnv: job,
        runner
      })
    })
  })
  return { child, pid: child.pid!, runnerDir, jobEnv: job, runner, stdout: () => stdout, state: () => read('GITHUB_STATE'), done }
}

const ended = (s: StartedAction) => s.child.exitCode !== null || s.child.signalCode !== null
const until = (s: StartedAction, ms: number) => Promise.race([s.done.then(() => undefined), new Promise<void>((r) => setTimeout(r, ms))])

/**
 * Cancels a running main step the way each runner does. GitHub: SIGINT, SIGTERM 7.5 s
 * later, SIGKILL 2.5 s after that (each only if the step still runs). act_runner and
 * Forgejo's runner: SIGKILL at once. Returns the ended run; the caller runs the post step.
 */
export async function cancelLikeRunner(s: StartedAction, runner: RunnerKind = s.runner): Promise<ActionRun> {
  if (runner === 'github') {
    s.child.kill('SIGINT')
    await until(s, 7500)
    if (!ended(s)) s.child.kill('SIGTERM')
    await until(s, 2500)
    if (!ended(s)) s.child.kill('SIGKILL')
  } else {
    s.child.kill('SIGKILL')
  }
  return s.done
}

/** Polls `cond`; with `run`, gives up at once (showing its output) if that run ended first. */
export async function waitFor(what: string, cond: () => boolean, run?: StartedAction, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    const ended = run && (run.child.exitCode !== null || run.child.signalCode !== null)
    if (ended || Date.now() > deadline) {
      throw new Error(`${ended ? 'the run ended' : 'timed out'} while waiting for ${what}${run ? `; its output:\n${run.stdout()}` : ''}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Every line of the audit log, each one parsed with the record schema (strict: no extra fields). */
export function readAudit(file: string): AuditRecord[] {
  if (!fs.existsSync(file)) return []
  const text = fs.readFileSync(file, 'utf8')
  if (text !== '' && !text.endsWith('\n')) throw new Error(`audit log ${file} does not end with a newline`)
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((line, i) => {
      const parsed = AuditRecordSchema.safeParse(JSON.parse(line))
      if (!parsed.success) throw new Error(`audit line ${i + 1} is not a valid record: ${parsed.error.message}\n${line}`)
      return parsed.data
    })
}

/** The host the lock and post tests deploy on: a neighbour, the app's production and test processes. */
export async function lockTestHost(label: string): Promise<TestDaemon> {
  const d = TestDaemon.create(label)
  d.start({ name: 'stock-alert-api', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-api', script: `${APPS}/idle.cjs` })
  d.start({ name: 'flyer-crawler-api-test', script: `${APPS}/idle.cjs` })
  await d.waitOnline()
  return d
}

/** Ends the deploys a test started: a failed test must not leave one holding the lock for the next. */
export async function stopStarted(started: StartedAction[]): Promise<void> {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM')
    await s.done
  }
}

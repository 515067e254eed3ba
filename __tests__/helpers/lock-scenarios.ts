// Runs the bundled main step in the background, as a runner does, so a test can watch
// it, signal it (SIGTERM as a cancelled job, SIGKILL as a killed runner) and run the
// post step after it. Also reads the audit log, each line validated with zod.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { AuditRecordSchema, type AuditRecord } from '../../src/shell/audit.js'
import { APPS, TestDaemon } from './daemon.js'
import { MAIN, parseCommandFile, runnerEnv, type ActionRun, type RunOptions } from './run-action.js'

export interface StartedAction {
  child: ChildProcess
  pid: number
  runnerDir: string
  stdout(): string
  /** Outputs and state as written so far (state is written before the lock is taken). */
  state(): Record<string, string>
  done: Promise<ActionRun>
}

let counter = 0

export function startAction(opts: RunOptions & { runId: string }): StartedAction {
  const runnerDir = path.join(opts.baseDir, `bg-${process.pid}-${++counter}`)
  fs.mkdirSync(runnerDir, { recursive: true })
  const env = runnerEnv({ ...opts, env: { GITHUB_RUN_ID: opts.runId, ...opts.env } }, runnerDir)
  const child = spawn(process.execPath, [MAIN], { env, cwd: opts.cwd ?? runnerDir, stdio: ['ignore', 'pipe', 'pipe'] })
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
        runnerDir
      })
    })
  })
  return { child, pid: child.pid!, runnerDir, stdout: () => stdout, state: () => read('GITHUB_STATE'), done }
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

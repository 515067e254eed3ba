// Runs the bundled action the way runners do: every input of action.yml as INPUT_*
// (hyphens kept, defaults included) for the main AND the post step, fresh runner files
// for each step (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH,
// and act_runner's GITEA_* copies), the post step as a second node run with the saved
// state as STATE_*, and RUNNER_TEMP deleted when the job ends.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { parseCommandFile } from '../../src/core/command-file.js'
import { ROOT, testEnv } from './daemon.js'

export const MAIN = path.join(ROOT, 'dist', 'main', 'index.js')
export const POST = path.join(ROOT, 'dist', 'post', 'index.js')

export interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  /** Every file the run wrote into its runner dir (outputs, summary, state). */
  runnerDir: string
  /** The job's environment (inputs, metadata, RUNNER_TEMP): the post step gets it too. */
  jobEnv: Record<string, string>
  runner: RunnerKind
  /** The post step's run, when `runAction` ran it. */
  post?: { code: number; stdout: string; stderr: string }
}

/** The `name<<DELIM … DELIM` and `name=value` forms of GITHUB_OUTPUT/GITHUB_STATE: the action's own parser. */
export { parseCommandFile }

function spawnNode(
  script: string,
  env: Record<string, string>,
  cwd: string,
  timeoutMs: number,
  node = process.execPath
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(node, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 1, stdout, stderr })
    })
  })
}

export type RunnerKind = 'github' | 'act' | 'forgejo'

export interface RunOptions {
  /** Inputs by their action.yml names (`environment-suffix`, …); the others get action.yml's defaults. */
  inputs: Record<string, string>
  pm2Home: string
  /** Extra environment (runner variables, the user's step env). */
  env?: Record<string, string>
  /** Directory for runner files; a fresh one under `baseDir` by default. */
  baseDir: string
  cwd?: string
  timeoutMs?: number
  /** The node binary that runs the bundle (a runner's own node); this test's node by default. */
  node?: string
  /** Whose runner: GitHub's, or act_runner / Forgejo's runner (GITEA_* copies, forge variables). */
  runner?: RunnerKind
}

let counter = 0

/** Every input action.yml declares, with its default ('' when it has none): a runner sets them all, for main and post. */
export function actionYmlDefaults(): Record<string, string> {
  const doc = parseYaml(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: unknown }> }
  return Object.fromEntries(Object.entries(doc.inputs).map(([name, spec]) => [name, spec.default === undefined ? '' : String(spec.default)]))
}

/** `INPUT_<NAME>` as runners write it: upper-cased, spaces to `_`, hyphens kept. */
export const inputVar = (name: string) => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`

/** What these tests give every run unless a test says otherwise: this repo's pm2, the test daemon, a short window. */
function testInputs(opts: RunOptions): Record<string, string> {
  return {
    ...actionYmlDefaults(),
    'pm2-path': path.join(ROOT, 'node_modules', '.bin', 'pm2'),
    'pm2-home': opts.pm2Home,
    'stable-seconds': '1',
    ...opts.inputs
  }
}

const STEP_FILES = { GITHUB_OUTPUT: 'output', GITHUB_STATE: 'state', GITHUB_STEP_SUMMARY: 'summary.md', GITHUB_ENV: 'env', GITHUB_PATH: 'path' } as const

/**
 * The job's environment, the same for every step of it: metadata, RUNNER_TEMP, tokens and
 * every input. act_runner (and Forgejo's runner) add `GITEA_*` copies of the `GITHUB_*`
 * variables, `GITEA_ACTIONS`, and a forge token may be in the env as a secret.
 */
export function jobEnv(opts: RunOptions, runnerDir: string): Record<string, string> {
  const kind = opts.runner ?? 'github'
  const env: Record<string, string> = {
    ...testEnv(opts.pm2Home),
    RUNNER_TEMP: path.join(runnerDir, 'tmp'),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/flyer-crawler',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_RUN_ID: String(1000 + counter),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'deploy',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_WORKSPACE: opts.cwd ?? runnerDir,
    GITHUB_EVENT_PATH: path.join(runnerDir, 'event.json'),
    RUNNER_TRACKING_ID: 'github_tracking_id_test',
    ACTIONS_RUNTIME_TOKEN: 'runtime-token-value',
    ACTIONS_RUNTIME_URL: 'https://runtime.example/',
    ACTIONS_RESULTS_URL: 'https://runtime.example'
  }
  if (kind !== 'github') {
    env.GITEA_ACTIONS = 'true'
    env.GITEA_ACTIONS_RUNNER_VERSION = 'v0.2.13'
    env.GITEA_TOKEN = 'gitea-token-value'
    env.GITEA_RUNNER_REGISTRATION_TOKEN = 'gitea-registration-token-value'
    env.GITHUB_TOKEN = 'gitea-token-value'
    if (kind === 'forgejo') {
      env.FORGEJO_ACTIONS = 'true'
      env.FORGEJO_ACTIONS_RUNNER_VERSION = 'v6.0.0'
      env.FORGEJO_TOKEN = 'forgejo-token-value'
    }
  }
  Object.assign(env, opts.env)
  for (const [name, value] of Object.entries(testInputs(opts))) env[inputVar(name)] = value
  fs.mkdirSync(env.RUNNER_TEMP!, { recursive: true })
  fs.writeFileSync(env.GITHUB_EVENT_PATH!, '{}\n')
  return env
}

/** One step's environment: the job's, with fresh empty runner files (and act's GITEA_* copies of every GITHUB_* variable). */
export function stepEnv(job: Record<string, string>, stepDir: string, kind: RunnerKind = 'github'): Record<string, string> {
  fs.mkdirSync(stepDir, { recursive: true })
  const env = { ...job }
  for (const [name, file] of Object.entries(STEP_FILES)) {
    env[name] = path.join(stepDir, file)
    fs.writeFileSync(env[name]!, '')
  }
  if (kind !== 'github') for (const [k, v] of Object.entries(env)) if (k.startsWith('GITHUB_') && !(`GITEA_${k.slice(7)}` in job)) env[`GITEA_${k.slice(7)}`] = v
  return env
}

/** Kept for the lock scenarios: the job env plus the main step's files. */
export function runnerEnv(opts: RunOptions, runnerDir: string): Record<string, string> {
  return stepEnv(jobEnv(opts, runnerDir), path.join(runnerDir, 'main'), opts.runner ?? 'github')
}

/** The runner deletes RUNNER_TEMP when the job ends: nothing the action left there survives. */
export function endJob(job: Pick<ActionRun, 'jobEnv'>): void {
  fs.rmSync(job.jobEnv.RUNNER_TEMP!, { recursive: true, force: true })
}

/** The main step; with `post`, the post step after it. The job then ends (RUNNER_TEMP deleted) unless `keepJob`. */
export async function runAction(opts: RunOptions & { post?: boolean; keepJob?: boolean }): Promise<ActionRun> {
  const runnerDir = path.join(opts.baseDir, `run-${process.pid}-${++counter}`)
  fs.mkdirSync(runnerDir, { recursive: true })
  const job = jobEnv(opts, runnerDir)
  const env = stepEnv(job, path.join(runnerDir, 'main'), opts.runner ?? 'github')
  const r = await spawnNode(MAIN, env, opts.cwd ?? runnerDir, opts.timeoutMs ?? 120_000, opts.node)
  const run: ActionRun = {
    ...r,
    outputs: parseCommandFile(fs.readFileSync(env.GITHUB_OUTPUT!, 'utf8')),
    state: parseCommandFile(fs.readFileSync(env.GITHUB_STATE!, 'utf8')),
    summary: fs.readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
    runnerDir,
    jobEnv: job,
    runner: opts.runner ?? 'github'
  }
  if (opts.post) run.post = await runPost(run, opts.pm2Home, opts.node)
  if (!opts.keepJob) endJob(run)
  return run
}

let postCounter = 0

/** The post step: a second node run with every input again, fresh runner files, and each saved state as STATE_<name>. */
export async function runPost(
  run: Pick<ActionRun, 'state' | 'runnerDir'> & Partial<Pick<ActionRun, 'jobEnv' | 'runner'>>,
  pm2Home: string,
  node = process.execPath
): Promise<{ code: number; stdout: string; stderr: string }> {
  const job = run.jobEnv ?? jobEnv({ inputs: { app: '' }, pm2Home, baseDir: run.runnerDir }, run.runnerDir)
  fs.mkdirSync(job.RUNNER_TEMP!, { recursive: true })
  const env = stepEnv(job, path.join(run.runnerDir, `post-${++postCounter}`), run.runner ?? 'github')
  for (const [k, v] of Object.entries(run.state)) env[`STATE_${k}`] = v
  return spawnNode(POST, env, run.runnerDir, 30_000, node)
}

/** Every file under `dir`, read as text: to prove a secret appears nowhere. */
export function readAllFiles(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = []
  // A deploy may be running: a lock's temporary file or a pruned run directory can vanish mid-walk.
  const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT'
  const walk = (d: string) => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch (err) {
      if (gone(err)) return
      throw err
    }
    for (const e of entries) {
      const full = path.join(d, e.name)
      if (e.isDirectory()) walk(full)
      else if (e.isFile()) {
        try {
          out.push({ file: full, text: fs.readFileSync(full, 'utf8') })
        } catch (err) {
          if (!gone(err)) throw err
        }
      }
    }
  }
  walk(dir)
  return out
}

/** A refusal before any change: result aborted, exit 1, the message, no stack trace, no pm2 command sent. */
export function expectAborted(run: ActionRun, message: RegExp): void {
  expect(run.outputs.result, run.stdout).toBe('aborted')
  expect(run.code).toBe(1)
  expect(run.stdout).toMatch(message)
  expect(run.stdout + run.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/)
  expect(JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8')).commands).toEqual([])
}

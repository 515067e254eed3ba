// Runs the bundled action the way a runner does: INPUT_* variables (hyphens kept),
// GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files, then the post step as a
// second node run with the saved state as STATE_* variables.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
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
  /** Every file the run wrote into its runner dir (outputs, summary, snapshots, report). */
  runnerDir: string
}

/** Parses the `name<<DELIM … DELIM` and `name=value` forms of GITHUB_OUTPUT/GITHUB_STATE. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const heredoc = line.match(/^([^=<]+)<<(.+)$/)
    if (heredoc) {
      const [, name, delim] = heredoc
      const value: string[] = []
      while (++i < lines.length && lines[i] !== delim) value.push(lines[i]!)
      out[name!] = value.join('\n')
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return out
}

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

export interface RunOptions {
  /** Inputs by their action.yml names (`environment-suffix`, …). */
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
}

let counter = 0

export function runnerEnv(opts: RunOptions, runnerDir: string): Record<string, string> {
  const files = {
    GITHUB_OUTPUT: path.join(runnerDir, 'output'),
    GITHUB_STATE: path.join(runnerDir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(runnerDir, 'summary.md'),
    GITHUB_ENV: path.join(runnerDir, 'env'),
    GITHUB_PATH: path.join(runnerDir, 'path')
  }
  for (const f of Object.values(files)) fs.writeFileSync(f, '')
  const env: Record<string, string> = {
    ...testEnv(opts.pm2Home),
    ...files,
    RUNNER_TEMP: path.join(runnerDir, 'tmp'),
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/flyer-crawler',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_RUN_ID: String(1000 + counter),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'deploy',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_WORKSPACE: opts.cwd ?? runnerDir,
    RUNNER_TRACKING_ID: 'github_tracking_id_test',
    ACTIONS_RUNTIME_TOKEN: 'runtime-token-value',
    ...opts.env
  }
  fs.mkdirSync(env.RUNNER_TEMP!, { recursive: true })
  for (const [name, value] of Object.entries(opts.inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  if (!('INPUT_PM2-PATH' in env)) env['INPUT_PM2-PATH'] = path.join(ROOT, 'node_modules', '.bin', 'pm2')
  if (!('INPUT_PM2-HOME' in env)) env['INPUT_PM2-HOME'] = opts.pm2Home
  if (!('INPUT_STABLE-SECONDS' in env)) env['INPUT_STABLE-SECONDS'] = '1'
  return env
}

export async function runAction(opts: RunOptions): Promise<ActionRun> {
  const runnerDir = path.join(opts.baseDir, `run-${process.pid}-${++counter}`)
  fs.mkdirSync(runnerDir, { recursive: true })
  const env = runnerEnv(opts, runnerDir)
  const r = await spawnNode(MAIN, env, opts.cwd ?? runnerDir, opts.timeoutMs ?? 120_000, opts.node)
  return {
    ...r,
    outputs: parseCommandFile(fs.readFileSync(env.GITHUB_OUTPUT!, 'utf8')),
    state: parseCommandFile(fs.readFileSync(env.GITHUB_STATE!, 'utf8')),
    summary: fs.readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
    runnerDir
  }
}

/** The post step: a second node run with each saved state as STATE_<name>. */
export async function runPost(
  run: Pick<ActionRun, 'state' | 'runnerDir'>,
  pm2Home: string,
  node = process.execPath
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { ...testEnv(pm2Home) }
  for (const [k, v] of Object.entries(run.state)) env[`STATE_${k}`] = v
  return spawnNode(POST, env, run.runnerDir, 30_000, node)
}

/** Every file under `dir`, read as text: to prove a secret appears nowhere. */
export function readAllFiles(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name)
      if (e.isDirectory()) walk(full)
      else if (e.isFile()) out.push({ file: full, text: fs.readFileSync(full, 'utf8') })
    }
  }
  walk(dir)
  return out
}

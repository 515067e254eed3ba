// Promise 5: everything that can be checked before a change is checked first, so a
// deploy that will fail fails while the old processes still run. Pure but for file
// reads; the interpreter rules model PM2's own (Common.sink.resolveInterpreter).
import fs from 'node:fs'
import path from 'node:path'
import type { EcosystemApp } from './ecosystem.js'
import { interpreterMismatch, kindOf, pm2Interpreter, type ScriptInfo, type ScriptKind } from '../core/interpreter.js'
import { renamingProblem } from '../core/renaming.js'
import { findOnPath, isExecutableFile } from './which.js'
export * from '../core/interpreter.js'

export interface PreflightProblem {
  app: string
  problem: string
}

function readHead(file: string): Buffer | null {
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const head = Buffer.alloc(512)
      return head.subarray(0, fs.readSync(fd, head, 0, 512, 0))
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return null
  }
}

/** What a script really is, by magic bytes, shebang and extension. */
export function inspectScript(file: string): ScriptInfo {
  const head = readHead(file)
  const { kind, shebang } = kindOf(path.extname(file).toLowerCase(), head)
  return { kind, shebang, executable: isExecutableFile(file) }
}

export function scriptKind(file: string): ScriptKind {
  return inspectScript(file).kind
}

/**
 * PM2's CLI checks the interpreter with `which` from its own directory (the working
 * directory); the daemon then spawns it from the app's cwd. A relative path must hold in both.
 */
export function interpreterMissing(interpreter: string, workingDirectory: string, searchPath: string | undefined, appCwd = workingDirectory): string | null {
  // 'none' needs nothing; PM2 falls back to its own node; node@version is resolved through nvm.
  if (interpreter === 'none' || interpreter === 'node' || interpreter.includes('@')) return null
  if (interpreter.includes('/')) {
    const dirs = path.isAbsolute(interpreter) ? [workingDirectory] : [...new Set([workingDirectory, appCwd])]
    const missing = dirs.map((d) => path.resolve(d, interpreter)).filter((f) => !isExecutableFile(f))
    if (missing.length === 0) return null
    return (
      `interpreter ${missing[0]} does not exist or is not executable: create the virtualenv (or install the runtime) before deploying, or fix \`interpreter\`` +
      (path.isAbsolute(interpreter) ? '' : ' (PM2 looks for a relative interpreter from working-directory and runs it from the app\'s cwd: use an absolute path)')
    )
  }
  // PM2 uses python3 when .py's default `python` is not installed.
  if (interpreter === 'python' && (findOnPath('python', searchPath) || findOnPath('python3', searchPath))) return null
  if (findOnPath(interpreter, searchPath)) return null
  return `interpreter ${interpreter} is not on the PATH pm2 gets: install it, or set \`interpreter\` to its absolute path`
}

export interface ResolvedApp {
  name: string
  script: string
  cwd: string
}

/** Where PM2 will look for the app: cwd relative to the CLI's cwd, script relative to cwd. */
export function resolveAppPaths(app: EcosystemApp, workingDirectory: string): ResolvedApp | null {
  if (!app.script) return null
  const cwd = app.cwd ? path.resolve(workingDirectory, app.cwd) : workingDirectory
  return { name: app.name, cwd, script: path.resolve(cwd, app.script) }
}

export interface PreflightOptions {
  /** The PATH pm2 runs with, to find bare commands and interpreters. */
  searchPath?: string
  /** The `ecosystem-env` (pm2 `--env`): with it, `append_env_to_name` renames apps. */
  ecosystemEnv?: string | null
  /**
   * Maps an absolute path to where it will lead when the apps start: with a release
   * switch, paths through current-link are checked in the new release (core/release.ts).
   */
  mapPath?: (p: string) => string
}

/** Checks each own app of the ecosystem file before anything changes. */
export function preflightApps(
  ownNames: readonly string[],
  apps: readonly EcosystemApp[],
  workingDirectory: string,
  opts: PreflightOptions = {}
): PreflightProblem[] {
  const searchPath = opts.searchPath ?? process.env.PATH
  const map = opts.mapPath ?? ((p: string) => p)
  const problems: PreflightProblem[] = []
  for (const name of ownNames) {
    const app = apps.find((a) => a.name === name)
    if (!app) {
      problems.push({
        app: name,
        problem: `is not declared in the ecosystem file (it declares ${apps.map((a) => a.name).join(', ') || 'nothing'}): add it, or fix the whitelist/suffix`
      })
      continue
    }
    const renamed = renamingProblem(app, opts.ecosystemEnv ?? null)
    if (renamed) problems.push({ app: name, problem: renamed })
    const unmapped = resolveAppPaths(app, workingDirectory)
    const resolved = unmapped && { ...unmapped, cwd: map(unmapped.cwd), script: map(unmapped.script) }
    if (!resolved || !app.script) {
      problems.push({ app: name, problem: 'has no `script` in the ecosystem file: PM2 would refuse to start it' })
      continue
    }
    if (!fs.existsSync(resolved.cwd) || !fs.statSync(resolved.cwd).isDirectory()) {
      problems.push({ app: name, problem: `cwd ${resolved.cwd} does not exist (missing release directory?)` })
      continue
    }
    // PM2 runs a script with spaces as `bash -c "<script>"`: a command line, not a file.
    if (app.script.includes(' ')) continue
    let scriptPath = resolved.script
    if (!fs.existsSync(scriptPath)) {
      // PM2 falls back to a command on PATH (e.g. `npm`) when no such file exists.
      const onPath = app.script.includes('/') ? null : findOnPath(app.script, searchPath)
      if (!onPath) {
        problems.push({ app: name, problem: `script ${resolved.script} does not exist (missing build artifacts or release? run the build first)` })
        continue
      }
      scriptPath = onPath
    }
    if (fs.statSync(scriptPath).isDirectory()) {
      problems.push({ app: name, problem: `script ${scriptPath} is a directory: point \`script\` at the file to run` })
      continue
    }
    const info = inspectScript(scriptPath)
    const configured = app.interpreter && path.isAbsolute(app.interpreter) ? map(app.interpreter) : app.interpreter
    const interpreter = pm2Interpreter(configured, scriptPath, info.kind)
    const mismatch = interpreterMismatch(interpreter, info, app.interpreter !== null)
    if (mismatch) {
      problems.push({ app: name, problem: `script ${scriptPath} ${mismatch}` })
      continue
    }
    const missing = interpreterMissing(interpreter, workingDirectory, searchPath, resolved.cwd)
    if (missing) problems.push({ app: name, problem: missing })
  }
  return problems
}

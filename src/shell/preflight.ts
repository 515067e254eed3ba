// Promise 5: everything that can be checked before a change is checked first, so a
// deploy that will fail fails while the old processes still run. Pure but for file
// reads; the interpreter rules model PM2's own (Common.sink.resolveInterpreter).
import fs from 'node:fs'
import path from 'node:path'
import type { EcosystemApp } from './ecosystem.js'
import { findOnPath, isExecutableFile } from './which.js'

export interface PreflightProblem {
  app: string
  problem: string
}

export type ScriptKind = 'node' | 'python' | 'native' | 'shell' | 'other-script' | 'unknown'

export interface ScriptInfo {
  kind: ScriptKind
  /** The first line when it is a `#!` line. */
  shebang: string | null
  executable: boolean
}

const NODE_EXTENSIONS = new Set(['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '.jsx', '.tsx'])

/** PM2's lib/API/interpreter.json: the interpreter it picks by extension when none is set. */
const PM2_INTERPRETER_BY_EXTENSION: Record<string, string> = {
  '.sh': 'bash',
  '.py': 'python',
  '.rb': 'ruby',
  '.php': 'php',
  '.pl': 'perl',
  '.js': 'node',
  '.coffee': 'coffee',
  '.ls': 'lsc',
  '.ts': 'bun',
  '.tsx': 'bun'
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

function kindOf(ext: string, head: Buffer | null): { kind: ScriptKind; shebang: string | null } {
  if (head && head[0] === 0x7f && head.subarray(1, 4).toString() === 'ELF') return { kind: 'native', shebang: null }
  const magic = head?.subarray(0, 4).toString('hex')
  if (magic === 'cffaedfe' || magic === 'feedfacf' || magic === 'cafebabe') return { kind: 'native', shebang: null }
  const first = head ? (head.toString('utf8').split('\n')[0] ?? '') : ''
  if (first.startsWith('#!')) {
    const shebang = first.trimEnd()
    if (/python/.test(shebang)) return { kind: 'python', shebang }
    if (/\b(node|nodejs|bun|deno)\b/.test(shebang)) return { kind: 'node', shebang }
    if (/\b(ba|z|da|k)?sh\b/.test(shebang)) return { kind: 'shell', shebang }
    return { kind: 'other-script', shebang }
  }
  if (ext === '.py') return { kind: 'python', shebang: null }
  if (ext === '.sh') return { kind: 'shell', shebang: null }
  if (NODE_EXTENSIONS.has(ext)) return { kind: 'node', shebang: null }
  return { kind: 'unknown', shebang: null }
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

/** The interpreter PM2 will use: the configured one, else by extension, else 'none' for binaries, else node. */
export function pm2Interpreter(configured: string | null, script: string, kind: ScriptKind): string {
  if (configured) return configured
  const byExtension = PM2_INTERPRETER_BY_EXTENSION[path.extname(script)]
  if (byExtension) return byExtension
  return kind === 'native' ? 'none' : 'node'
}

export function isNodeInterpreter(interpreter: string): boolean {
  const base = path.basename(interpreter)
  return /^(node|nodejs|bun)(\d+(\.\d+)*)?(\.exe)?$/.test(base) || interpreter.startsWith('node@')
}

export function isPythonInterpreter(interpreter: string): boolean {
  return /^python(\d+(\.\d+)*)?$/.test(path.basename(interpreter))
}

const PYTHON_FIX = "set `interpreter: 'none'` (the script's #! line then picks the python) or `interpreter` to the virtualenv's python, e.g. '/srv/app/.venv/bin/python'"

/** Whether `interpreter` can run a script of this kind; a problem with its fix, or null. */
export function interpreterMismatch(interpreter: string, info: ScriptInfo, configured: boolean): string | null {
  const how = configured ? `\`interpreter: '${interpreter}'\`` : `PM2 would run it with ${interpreter} (no \`interpreter\` set)`
  if (interpreter === 'none') {
    if (info.kind !== 'native' && !info.shebang) {
      return "has `interpreter: 'none'`, so the OS runs it directly, but it is neither a binary nor starts with a #! line: add a #! line or set `interpreter`"
    }
    if (!info.executable) return "has `interpreter: 'none'`, so the OS runs it directly, but it is not executable: `chmod +x` it in the build"
    return null
  }
  if (info.kind === 'native') return `is a native binary, but ${how}: set \`interpreter: 'none'\` so PM2 executes it directly`
  if (isNodeInterpreter(interpreter)) {
    if (info.kind === 'python') return `is a python script, but ${how}: ${PYTHON_FIX}`
    if (info.kind === 'shell' || info.kind === 'other-script') {
      return `is a ${info.kind === 'shell' ? 'shell' : 'non-node'} script (${info.shebang ?? 'by its extension'}), but ${how}: set \`interpreter: 'none'\` so its #! line runs it`
    }
  }
  if (isPythonInterpreter(interpreter) && (info.kind === 'node' || info.kind === 'shell')) {
    return `is a ${info.kind} script, but ${how}: remove \`interpreter\` or set it to the one the script needs`
  }
  return null
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

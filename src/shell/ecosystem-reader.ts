// The ecosystem reader: a child process of its own (bundled apart as dist/reader, so
// it starts fast and loads nothing of the action's). It loads the user's ecosystem
// file as PM2 would, and prints one marked JSON line with a fixed set of fields per
// app, never `env`.
import fs from 'node:fs'
import path from 'node:path'
import vm from 'node:vm'
import { createRequire } from 'node:module'
import * as exec from '@actions/exec'
import { ecosystemOptionFlags, swapStartEnv } from '../core/swap.js'
import type { EcosystemApp, ReaderOutput } from './ecosystem-protocol.js'
import { RESULT_MARK } from './ecosystem-protocol.js'

/** The child side: load, normalise, print one marked JSON line, exit. Never prints env values. */
export async function readEcosystemFile(file: string): Promise<void> {
  let out: ReaderOutput
  try {
    out = { ok: true, apps: normaliseApps(await loadFile(file), file) }
  } catch (err) {
    out = describeLoadError(err, file)
  }
  // Exit even when the file left timers or sockets open.
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(out)}\n`, () => process.exit(0))
}

/** A problem with a known place and fix, raised by the reader itself. */
class ReadProblem extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly line: number | null = null,
    readonly column: number | null = null
  ) {
    super(message)
  }
}

const SHAPE_FIX = 'An ecosystem file declares `{ apps: [{ name, script, … }] }`.'

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset))
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

async function loadFile(file: string): Promise<unknown> {
  const ext = path.extname(file).toLowerCase()
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new ReadProblem(`cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'Check that the file exists and that the runner user may read it.')
  }
  if (ext === '.json') return loadJson(text, file)
  if (ext === '.yml' || ext === '.yaml') {
    const YAML = await import('yaml')
    const doc = YAML.parseDocument(text, { prettyErrors: true })
    const first = doc.errors[0]
    if (first) {
      const pos = first.linePos?.[0]
      throw new ReadProblem(`YAML ${first.code}: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, 'Fix the YAML at that line.', pos?.line ?? null, pos?.col ?? null)
    }
    return doc.toJS()
  }
  const esmFix = `PM2 loads ecosystem files with require(): write it as CommonJS (\`module.exports = { apps: [...] }\`) in a .config.cjs file.`
  let loaded: unknown
  try {
    loaded = createRequire(file)(file)
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_REQUIRE_ESM' || (err as { code?: string }).code === 'ERR_REQUIRE_ASYNC_MODULE') {
      throw new ReadProblem('it is an ES module', esmFix)
    }
    throw err
  }
  // Node ≥ 20.19 require()s an ES module and returns its namespace, which PM2 misreads.
  if (Object.prototype.toString.call(loaded) === '[object Module]') throw new ReadProblem('it is an ES module', esmFix)
  return loaded
}

/** As PM2 does: JSON, else a JavaScript object literal (comments, trailing commas). */
function loadJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text)
  } catch (jsonErr) {
    try {
      return vm.runInThisContext(`(${text})`, { filename: file, displayErrors: false, timeout: 1000 })
    } catch {
      const message = (jsonErr as Error).message
      const at = message.match(/line (\d+) column (\d+)/)
      const offset = message.match(/at position (\d+)/)
      const pos = at ? { line: Number(at[1]), column: Number(at[2]) } : offset ? lineColumn(text, Number(offset[1])) : null
      throw new ReadProblem(
        `JSON ${message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '')}`,
        'Fix the JSON at that line.',
        pos?.line ?? null,
        pos?.column ?? null
      )
    }
  }
}

/** Where in `file` an error was raised, from its stack: node writes "file:line[:column]". */
function locate(err: Error, file: string): { line: number | null; column: number | null } {
  const names = new Set([file])
  try {
    names.add(fs.realpathSync(file))
  } catch {
    // keep the given path
  }
  for (const name of names) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const m = (err.stack ?? '').match(new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`))
    if (m) return { line: Number(m[1]), column: m[2] ? Number(m[2]) : null }
  }
  return { line: null, column: null }
}

function describeLoadError(err: unknown, file: string): Extract<ReaderOutput, { ok: false }> {
  if (err instanceof ReadProblem) return { ok: false, error: err.message, line: err.line, column: err.column, fix: err.fix }
  if (!(err instanceof Error)) return { ok: false, error: String(err).slice(0, 300), line: null, column: null, fix: 'Fix the file.' }
  const { line, column } = locate(err, file)
  const syntax = err.name === 'SyntaxError'
  return {
    ok: false,
    error: `${err.name}: ${err.message.split('\n')[0]!.slice(0, 300)}`,
    line,
    column,
    fix: syntax
      ? `Fix the syntax${line ? ' at that line' : ''} (\`node --check ${path.basename(file)}\` shows it).`
      : `Loading the file threw${line ? ' at that line' : ''}: it must run with the step's environment (the runner's own variables removed).`
  }
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

function normaliseApps(loaded: unknown, file: string): EcosystemApp[] {
  if (loaded === null || typeof loaded !== 'object') throw new ReadProblem(`${path.basename(file)} declares no apps`, SHAPE_FIX)
  // PM2 takes `apps`, else `pm2`, else the whole object (or array) as the app list.
  const root = loaded as Record<string, unknown>
  const apps = Array.isArray(loaded) ? loaded : 'apps' in root ? root.apps : 'pm2' in root ? root.pm2 : loaded
  const list = Array.isArray(apps) ? apps : apps && typeof apps === 'object' ? [apps] : []
  if (list.length === 0) throw new ReadProblem(`${path.basename(file)} declares no apps`, SHAPE_FIX)
  return list.map((raw, i) => {
    const app = (raw ?? {}) as Record<string, unknown>
    const name = str(app.name)
    if (!name) throw new ReadProblem(`app #${i + 1} has no name`, 'Give every app a unique `name`: the action finds its processes by name.')
    return {
      name,
      // PM2 aliases `cmd` and `command` to `script`.
      script: str(app.script) ?? str(app.cmd) ?? str(app.command),
      cwd: str(app.cwd),
      interpreter: str(app.interpreter) ?? str(app.exec_interpreter),
      execMode: str(app.exec_mode) ?? str(app.execMode),
      instances: typeof app.instances === 'number' || typeof app.instances === 'string' ? app.instances : null,
      namespace: str(app.namespace),
      // PM2 tests the flag for truth (`if (app.append_env_to_name && opts.env)`).
      appendEnvToName: Boolean(app.append_env_to_name),
      namePrefix: app.name_prefix === undefined || app.name_prefix === null || app.name_prefix === '' ? null : String(app.name_prefix),
      swap: { ...ecosystemOptionFlags(app), args: scriptArgs(app.args) }
    }
  })
}

/** PM2 splits a string `args` on spaces; an array is taken as it is. */
function scriptArgs(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String)
  return typeof v === 'string' ? v.split(' ').filter((a) => a !== '') : []
}

/**
 * The child side of a swap's start: runs `command` with the app's `env` and
 * `env_<envName>` merged over this process's (clean) environment, as PM2 merges them
 * for a config start, so the values never pass through the action. Exits with its code.
 */
export async function execWithAppEnv(file: string, appName: string, envName: string, command: string[]): Promise<void> {
  const loaded = (await loadFile(file)) as Record<string, unknown>
  const apps = Array.isArray(loaded) ? loaded : 'apps' in loaded ? loaded.apps : 'pm2' in loaded ? loaded.pm2 : loaded
  const list = (Array.isArray(apps) ? apps : [apps]) as Array<Record<string, unknown>>
  const app = list.find((a) => a && a.name === appName)
  if (!app || command.length === 0) {
    process.stderr.write(`${path.basename(file)} declares no app named ${appName}\n`)
    process.exit(2)
  }
  const clean = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined))
  const env = swapStartEnv(clean, app.env as Record<string, unknown> | undefined, envName ? (app[`env_${envName}`] as Record<string, unknown> | undefined) : undefined)
  // Passed through as it comes: the action reads pm2's messages from this process's output.
  const code = await exec
    .exec(`"${command[0]!.replace(/"/g, '\\"')}"`, command.slice(1), {
      env,
      silent: true,
      ignoreReturnCode: true,
      listeners: { stdout: (d) => process.stdout.write(d), stderr: (d) => process.stderr.write(d) }
    })
    .catch((err: Error) => {
      process.stderr.write(`${err.message}\n`)
      return 127
    })
  process.exit(code)
}

// Ecosystem files are code (.js/.cjs) or data (.json/.yml): either way they are read
// in a separate node process with the clean environment, never in the action's own
// process, and only a fixed set of fields comes back (never `env`).
import fs from 'node:fs'
import path from 'node:path'
import vm from 'node:vm'
import { createRequire } from 'node:module'
import { z } from 'zod'
import { runCli } from './pm2/cli.js'

export const READ_ECOSYSTEM_FLAG = '--pm2-safe-deploy-read-ecosystem'
/** Prefixes the reader's one result line: the file itself may print to stdout. */
const RESULT_MARK = '@@pm2-safe-deploy-ecosystem@@'
const READ_TIMEOUT_MS = 30_000

export class EcosystemError extends Error {}

const AppSchema = z.object({
  name: z.string(),
  script: z.string().nullable(),
  cwd: z.string().nullable(),
  interpreter: z.string().nullable(),
  execMode: z.string().nullable(),
  instances: z.union([z.number(), z.string()]).nullable(),
  namespace: z.string().nullable()
})
export type EcosystemApp = z.infer<typeof AppSchema>

const ReaderOutputSchema = z.union([
  z.object({ ok: z.literal(true), apps: z.array(AppSchema) }),
  z.object({ ok: z.literal(false), error: z.string(), line: z.number().nullable(), column: z.number().nullable(), fix: z.string() })
])
type ReaderOutput = z.infer<typeof ReaderOutputSchema>

export const ECOSYSTEM_EXTENSIONS = ['.js', '.cjs', '.mjs', '.json', '.yml', '.yaml']

type Pm2ConfigKind = 'json' | 'yaml' | 'js' | 'mjs'

/** PM2's Common.knonwConfigFileExtensions (5.4 to 7.x), in its order. */
const PM2_CONFIG_MARKERS: ReadonlyArray<readonly [string, Pm2ConfigKind]> = [
  ['.json', 'json'],
  ['.yml', 'yaml'],
  ['.yaml', 'yaml'],
  ['.config.js', 'js'],
  ['.config.cjs', 'js'],
  ['.config.mjs', 'mjs']
]

/**
 * How PM2 will read `arg` (Common.isConfigFile): the first marker found anywhere in
 * the string, or null when PM2 takes it for a script to run.
 */
export function pm2ConfigKind(arg: string): Pm2ConfigKind | null {
  for (const [marker, kind] of PM2_CONFIG_MARKERS) if (arg.includes(marker)) return kind
  return null
}

/**
 * Whether PM2 can use `file` as given to its CLI. `pm2 start apps.js` runs the file
 * itself as an app (a new process named "apps") and `pm2 startOrReload apps.js`
 * crashes; PM2 require()s JS configs and ignores an ES module's `export default`.
 */
export function ecosystemFileProblem(file: string): string | null {
  const ext = path.extname(file).toLowerCase()
  const base = path.basename(file)
  const stem = base.slice(0, base.length - ext.length).replace(/\.config$/, '')
  if (!ECOSYSTEM_EXTENSIONS.includes(ext)) {
    return `ecosystem file ${file} has extension "${ext}": use one of ${ECOSYSTEM_EXTENSIONS.join(' ')}.`
  }
  if (ext === '.mjs') {
    return (
      `ecosystem file ${file} is an ES module, which PM2 cannot use: it loads ecosystem files with require() and ignores ` +
      `\`export default\` (older Node cannot require an ES module at all). Write it as CommonJS ` +
      `(\`module.exports = { apps: [...] }\`) in ${stem}.config.cjs, or as JSON or YAML.`
    )
  }
  const want: Pm2ConfigKind = ext === '.json' ? 'json' : ext === '.yml' || ext === '.yaml' ? 'yaml' : 'js'
  const got = pm2ConfigKind(file)
  if (got === null) {
    return (
      `ecosystem file ${file}: PM2 reads a JavaScript file as an ecosystem file only when its name contains ` +
      `".config.js" or ".config.cjs"; it would run ${base} itself as an app instead. Rename it to ${stem}.config${ext === '.cjs' ? '.cjs' : '.js'} ` +
      'and set `ecosystem` to the new name.'
    )
  }
  if (got !== want) {
    const marker = PM2_CONFIG_MARKERS.find(([m]) => file.includes(m))![0]
    return (
      `ecosystem file ${file}: PM2 picks the file type from the first of ${PM2_CONFIG_MARKERS.map(([m]) => m).join(' ')} found ` +
      `anywhere in the path, finds "${marker}" and would read this ${ext} file as ${got}. Move or rename it so that ` +
      `"${marker}" is not in the path.`
    )
  }
  return null
}

/**
 * Reads the ecosystem file in a child node process (this bundle, in reader mode),
 * from `cwd` (where pm2 will run, so that relative paths in the file agree).
 */
export async function readEcosystem(file: string, env: Record<string, string>, cwd: string = path.dirname(file)): Promise<EcosystemApp[]> {
  const problem = ecosystemFileProblem(file)
  if (problem) throw new EcosystemError(problem)
  if (!fs.existsSync(file)) {
    throw new EcosystemError(`ecosystem file ${file} does not exist. Check \`ecosystem\` and \`working-directory\` (the path is relative to it).`)
  }
  const entry = process.argv[1]
  if (!entry) throw new EcosystemError('cannot locate the action bundle to read the ecosystem file')
  const result = await runCli(process.execPath, [entry, READ_ECOSYSTEM_FLAG, file], { env, cwd, timeoutMs: READ_TIMEOUT_MS })
  const line = result.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARK))
  let parsed: ReaderOutput | null = null
  if (line) {
    try {
      parsed = ReaderOutputSchema.parse(JSON.parse(line.slice(RESULT_MARK.length)))
    } catch {
      parsed = null
    }
  }
  if (!parsed) {
    const why = result.timedOut
      ? `reading it took longer than ${READ_TIMEOUT_MS / 1000} s. An ecosystem file must only declare apps: does it start servers or wait on the network?`
      : `the reader exited with code ${result.code}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 400)}` : ''}. ` +
        `Check that \`node ${file}\` runs without error.`
    throw new EcosystemError(`could not read ecosystem file ${file}: ${why}`)
  }
  if (!parsed.ok) {
    const where = parsed.line ? ` line ${parsed.line}${parsed.column ? `, column ${parsed.column}` : ''}` : ''
    throw new EcosystemError(`invalid ecosystem file ${file}${where}: ${parsed.error}. ${parsed.fix}`)
  }
  return parsed.apps
}

/** The child side: load, normalise, print one marked JSON line, exit. Never prints env values. */
export async function ecosystemReaderMain(file: string): Promise<void> {
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
      namespace: str(app.namespace)
    }
  })
}

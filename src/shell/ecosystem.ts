// Ecosystem files are code (.js/.cjs) or data (.json/.yml): either way they are read
// in a separate node process with the clean environment, never in the action's own
// process, and only a fixed set of fields comes back (never `env`).
import { UserError } from '../core/errors.js'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { RESULT_MARK, type EcosystemApp, type ReaderOutput } from './ecosystem-protocol.js'
import { runBounded } from './exec.js'

const READ_TIMEOUT_MS = 30_000

export class EcosystemError extends UserError {}

const AppSchema = z.object({
  name: z.string(),
  script: z.string().nullable(),
  cwd: z.string().nullable(),
  interpreter: z.string().nullable(),
  execMode: z.string().nullable(),
  instances: z.union([z.number(), z.string()]).nullable(),
  namespace: z.string().nullable(),
  appendEnvToName: z.boolean(),
  namePrefix: z.string().nullable(),
  swap: z.object({ flags: z.array(z.string()), unsupported: z.array(z.string()), args: z.array(z.string()) }).optional()
})
export type { EcosystemApp }

const ReaderOutputSchema: z.ZodType<ReaderOutput> = z.union([
  z.object({ ok: z.literal(true), apps: z.array(AppSchema) }),
  z.object({ ok: z.literal(false), error: z.string(), line: z.number().nullable(), column: z.number().nullable(), fix: z.string() })
])

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
 * The reader bundle (dist/reader): beside the running main bundle (dist/main), or, when
 * the TypeScript runs unbundled (`npm run local-action`), in the checkout's dist/.
 */
export function readerBundle(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const candidates = [
    process.argv[1] ? path.join(path.dirname(process.argv[1]), '..', 'reader', 'index.js') : '',
    path.join(here, '..', 'reader', 'index.js'),
    path.join(here, '..', '..', 'dist', 'reader', 'index.js')
  ]
  return candidates.find((c) => c !== '' && fs.existsSync(c)) ?? null
}

/**
 * Reads the ecosystem file in a child node process (the small reader bundle, which
 * loads nothing but the file), from `cwd` (where pm2 will run, so that relative
 * paths in the file agree).
 */
export async function readEcosystem(file: string, env: Record<string, string>, cwd: string = path.dirname(file)): Promise<EcosystemApp[]> {
  const problem = ecosystemFileProblem(file)
  if (problem) throw new EcosystemError(problem)
  if (!fs.existsSync(file)) {
    throw new EcosystemError(`ecosystem file ${file} does not exist. Check \`ecosystem\` and \`working-directory\` (the path is relative to it).`)
  }
  const reader = readerBundle()
  if (!reader) throw new EcosystemError('cannot find the action\'s ecosystem reader (dist/reader/index.js beside dist/main): is the action checkout complete?')
  const result = await runBounded(process.execPath, [reader, file], { env, cwd, timeoutMs: READ_TIMEOUT_MS })
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

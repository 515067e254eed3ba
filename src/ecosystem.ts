// Ecosystem files are code (.js/.cjs/.mjs) or data (.json/.yml): either way they are
// read in a separate node process with the clean environment, never in the action's
// own process, and only a fixed set of fields comes back.
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { runCli } from './pm2/cli.js'

export const READ_ECOSYSTEM_FLAG = '--pm2-safe-deploy-read-ecosystem'

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
  z.object({ ok: z.literal(false), error: z.string() })
])

const EXTENSIONS = ['.js', '.cjs', '.mjs', '.json', '.yml', '.yaml']

/** Reads the ecosystem file in a child node process (this bundle, in reader mode). */
export async function readEcosystem(file: string, env: Record<string, string>): Promise<EcosystemApp[]> {
  const ext = path.extname(file)
  if (!EXTENSIONS.includes(ext)) {
    throw new EcosystemError(`ecosystem file ${file} has extension "${ext}": use one of ${EXTENSIONS.join(' ')}.`)
  }
  if (!fs.existsSync(file)) {
    throw new EcosystemError(`ecosystem file ${file} does not exist. Check \`ecosystem\` and \`working-directory\` (paths are relative to it).`)
  }
  const entry = process.argv[1]
  if (!entry) throw new EcosystemError('cannot locate the action bundle to read the ecosystem file')
  const result = await runCli(process.execPath, [entry, READ_ECOSYSTEM_FLAG, file], {
    env,
    cwd: path.dirname(file),
    timeoutMs: 30_000
  })
  const line = result.stdout.trim().split('\n').pop() ?? ''
  let parsed: z.infer<typeof ReaderOutputSchema>
  try {
    parsed = ReaderOutputSchema.parse(JSON.parse(line))
  } catch {
    throw new EcosystemError(
      `could not read ecosystem file ${file}${result.timedOut ? ' (timed out after 30 s)' : ''}: ${result.stderr.trim().slice(0, 500) || 'no output'}`
    )
  }
  if (!parsed.ok) throw new EcosystemError(`could not read ecosystem file ${file}: ${parsed.error}`)
  return parsed.apps
}

/** The child side: load, normalise, print one JSON line. Never prints env values. */
export async function ecosystemReaderMain(file: string): Promise<void> {
  try {
    const apps = normaliseApps(await loadFile(file), file)
    process.stdout.write(JSON.stringify({ ok: true, apps }) + '\n')
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, error: describeLoadError(err, file) }) + '\n')
  }
}

async function loadFile(file: string): Promise<unknown> {
  const ext = path.extname(file)
  const text = () => fs.readFileSync(file, 'utf8')
  if (ext === '.json') return JSON.parse(text())
  if (ext === '.yml' || ext === '.yaml') {
    const YAML = await import('yaml')
    const doc = YAML.parseDocument(text(), { prettyErrors: true })
    if (doc.errors.length > 0) throw doc.errors[0]
    return doc.toJS()
  }
  if (ext === '.mjs') return ((await import(pathToFileURL(file).href)) as { default?: unknown }).default
  const require = createRequire(file)
  try {
    return require(file)
  } catch (err) {
    // A .js file in a "type": "module" package: import it instead (Node 20 cannot require ESM).
    if ((err as { code?: string }).code === 'ERR_REQUIRE_ESM') {
      return ((await import(pathToFileURL(file).href)) as { default?: unknown }).default
    }
    throw err
  }
}

function describeLoadError(err: unknown, file: string): string {
  if (!(err instanceof Error)) return String(err)
  // Point at the line: node puts "file:line" in the stack of syntax and runtime errors.
  const where = (err.stack ?? '').split('\n').find((l) => l.includes(file))
  const location = where ? ` (at ${where.trim().replace(/^at\s+/, '')})` : ''
  return `${err.name}: ${err.message.split('\n')[0]}${location}`
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

function normaliseApps(loaded: unknown, file: string): EcosystemApp[] {
  const root = loaded as { apps?: unknown } | unknown[] | null
  const apps: unknown = Array.isArray(root) ? root : root && typeof root === 'object' && 'apps' in root ? root.apps : root ? [root] : null
  const list = Array.isArray(apps) ? apps : apps && typeof apps === 'object' ? [apps] : null
  if (!list || list.length === 0) throw new Error(`${file} declares no apps: export { apps: [{ name, script, … }] }`)
  return list.map((raw, i) => {
    const app = (raw ?? {}) as Record<string, unknown>
    const name = str(app.name)
    if (!name) throw new Error(`app #${i + 1} in ${file} has no name: every app needs a unique \`name\``)
    return {
      name,
      script: str(app.script),
      cwd: str(app.cwd),
      interpreter: str(app.interpreter) ?? str(app.exec_interpreter),
      execMode: str(app.exec_mode) ?? str(app.execMode),
      instances: typeof app.instances === 'number' || typeof app.instances === 'string' ? app.instances : null,
      namespace: str(app.namespace)
    }
  })
}

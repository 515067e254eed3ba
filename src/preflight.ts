// Promise 5: everything that can be checked before a change is checked first, so a
// deploy that will fail fails while the old processes still run. Pure but for file reads.
import fs from 'node:fs'
import path from 'node:path'
import type { EcosystemApp } from './ecosystem.js'

export interface PreflightProblem {
  app: string
  problem: string
}

const NODE_EXTENSIONS = new Set(['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '.jsx', '.tsx', '.json', ''])

function isNodeInterpreter(interpreter: string | null): boolean {
  if (interpreter === null) return true
  const base = path.basename(interpreter)
  return base === 'node' || base === 'nodejs' || /^node\d*$/.test(base)
}

/** What a script really is, by extension, shebang and magic bytes. */
export function scriptKind(file: string): 'node' | 'python' | 'native' | 'shell' | 'other-script' | 'unknown' {
  const ext = path.extname(file).toLowerCase()
  if (ext === '.py') return 'python'
  let head: Buffer
  try {
    const fd = fs.openSync(file, 'r')
    head = Buffer.alloc(256)
    const n = fs.readSync(fd, head, 0, 256, 0)
    fs.closeSync(fd)
    head = head.subarray(0, n)
  } catch {
    return 'unknown'
  }
  if (head[0] === 0x7f && head.subarray(1, 4).toString() === 'ELF') return 'native'
  if (head.subarray(0, 4).toString('hex') === 'cffaedfe' || head.subarray(0, 4).toString('hex') === 'feedfacf') return 'native'
  const first = head.toString('utf8').split('\n')[0] ?? ''
  if (first.startsWith('#!')) {
    if (/python/.test(first)) return 'python'
    if (/\bnode\b|\bnodejs\b|\bbun\b|\bdeno\b/.test(first)) return 'node'
    if (/\b(ba|z|da)?sh\b/.test(first)) return 'shell'
    return 'other-script'
  }
  return NODE_EXTENSIONS.has(ext) ? 'node' : 'unknown'
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

/** Checks each own app of the ecosystem file before anything changes. */
export function preflightApps(ownNames: readonly string[], apps: readonly EcosystemApp[], workingDirectory: string): PreflightProblem[] {
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
    const resolved = resolveAppPaths(app, workingDirectory)
    if (!resolved) {
      problems.push({ app: name, problem: 'has no `script` in the ecosystem file' })
      continue
    }
    if (!fs.existsSync(resolved.cwd) || !fs.statSync(resolved.cwd).isDirectory()) {
      problems.push({ app: name, problem: `cwd ${resolved.cwd} does not exist (missing release directory?)` })
      continue
    }
    // A bare command PM2 finds on PATH (e.g. `npm`, `python3`) is not a file under cwd.
    const isBareCommand = !(app.script ?? '').includes('/') && !fs.existsSync(resolved.script)
    if (isBareCommand) continue
    if (!fs.existsSync(resolved.script)) {
      problems.push({ app: name, problem: `script ${resolved.script} does not exist (missing build artifacts? run the build first)` })
      continue
    }
    if (app.interpreter === 'none') continue
    if (isNodeInterpreter(app.interpreter)) {
      const kind = scriptKind(resolved.script)
      if (kind === 'python' || kind === 'native' || kind === 'shell' || kind === 'other-script') {
        const fix =
          kind === 'python'
            ? "set `interpreter: 'none'` (the shebang then runs it) or `interpreter` to the virtualenv's python, e.g. '.venv/bin/python'"
            : "set `interpreter: 'none'` so PM2 executes it directly"
        problems.push({
          app: name,
          problem: `script ${resolved.script} is a ${kind === 'other-script' ? 'non-node script' : kind} ${kind === 'native' ? 'binary' : 'script'}, but PM2 would run it with node: ${fix}`
        })
      }
    }
  }
  return problems
}

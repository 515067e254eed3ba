// The interpreter rules of promise 5, modelled on PM2's own (Common.sink.resolveInterpreter,
// lib/API/interpreter.json): which interpreter PM2 picks, what a script really is, and
// whether the two fit. Pure: the shell reads the file's first bytes (shell/preflight.ts).
import path from 'node:path'

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

/** A script's kind from its extension and first bytes (magic number, shebang line). */
export function kindOf(ext: string, head: Buffer | null): { kind: ScriptKind; shebang: string | null } {
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


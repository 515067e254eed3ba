// The action's own bundle, shipped to a host once per content hash (promise 12): the files of
// dist/main, dist/post, dist/reader and dist/host, named by the sha256 of their list. The host
// unpacks them into a temporary directory, checks every file's sha256 and the whole hash, and
// renames the directory into ~/.cache/pm2-safe-deploy/<sha256>/: a copy cut short is never used.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const BUNDLE_PARTS = ['main', 'post', 'reader', 'host'] as const
/** Where bundles live on a host, under the SSH user's HOME. */
export const CACHE_DIR = '.cache/pm2-safe-deploy'

export interface BundleFile {
  path: string
  size: number
  sha256: string
}

export interface Bundle {
  root: string
  files: BundleFile[]
  hash: string
  bytes: number
}

const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex')

/** The hash of a file list: the same function the host's installer runs (INSTALLER below). */
export function bundleHash(files: readonly BundleFile[]): string {
  return sha256([...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => `${f.path}\0${f.sha256}\n`).join(''))
}

/** dist/, found from the running bundle (dist/main/index.js or dist/post/index.js), or from the sources. */
export function distRoot(): string {
  const candidates = [
    process.argv[1] ? path.join(path.dirname(process.argv[1]), '..') : '',
    path.join(path.dirname(fileURLToPath(import.meta.url)), '..'),
    path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist')
  ]
  const found = candidates.find((c) => c && fs.existsSync(path.join(c, 'host', 'index.js')) && fs.existsSync(path.join(c, 'main', 'index.js')))
  if (!found) throw new Error('cannot find the action\'s bundle (dist/main and dist/host): is the action checkout complete?')
  return found
}

export function readBundle(root = distRoot()): Bundle {
  const files: BundleFile[] = []
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = path.posix.join(rel, e.name)
      if (e.isDirectory()) walk(r)
      else if (e.isFile()) {
        const data = fs.readFileSync(path.join(root, r))
        files.push({ path: r, size: data.length, sha256: sha256(data) })
      }
    }
  }
  for (const part of BUNDLE_PARTS) walk(part)
  return { root, files, hash: bundleHash(files), bytes: files.reduce((n, f) => n + f.size, 0) }
}

/** The stream the installer reads: a JSON manifest line, then every file's bytes in manifest order. */
export function packBundle(b: Bundle): Buffer {
  const manifest = Buffer.from(JSON.stringify({ hash: b.hash, files: b.files }) + '\n')
  return Buffer.concat([manifest, ...b.files.map((f) => fs.readFileSync(path.join(b.root, f.path)))])
}

/**
 * The host's installer, run as `node -e INSTALLER` (fixed code, no input in it): reads the pack
 * from stdin, writes it to a temporary directory, checks every sha256 and the bundle hash, and
 * renames the directory into place (a concurrent install of the same hash wins harmlessly).
 */
export const INSTALLER = `
const fs = require('fs'), path = require('path'), crypto = require('crypto')
const sha = (d) => crypto.createHash('sha256').update(d).digest('hex')
const chunks = []
process.stdin.on('data', (c) => chunks.push(c))
process.stdin.on('end', () => {
  const all = Buffer.concat(chunks)
  const nl = all.indexOf(10)
  const m = JSON.parse(all.subarray(0, nl).toString())
  if (!/^[0-9a-f]{64}$/.test(m.hash)) throw new Error('bad bundle hash')
  const cache = path.join(process.env.HOME, '${CACHE_DIR}')
  const final = path.join(cache, m.hash)
  fs.mkdirSync(cache, { recursive: true, mode: 0o700 })
  const tmp = fs.mkdtempSync(path.join(cache, '.tmp-' + m.hash.slice(0, 12) + '-'))
  try {
    let at = nl + 1
    for (const f of m.files) {
      if (!/^[A-Za-z0-9_.-]+(\\/[A-Za-z0-9_.-]+)*$/.test(f.path) || f.path.split('/').includes('..')) throw new Error('bad path ' + f.path)
      const data = all.subarray(at, at + f.size)
      at += f.size
      if (data.length !== f.size || sha(data) !== f.sha256) throw new Error('sha256 mismatch for ' + f.path + ': the copy is incomplete or damaged')
      fs.mkdirSync(path.join(tmp, path.dirname(f.path)), { recursive: true })
      fs.writeFileSync(path.join(tmp, f.path), data, { mode: 0o600 })
    }
    const again = m.files.slice().sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => f.path + '\\0' + sha(fs.readFileSync(path.join(tmp, f.path))) + '\\n').join('')
    if (sha(again) !== m.hash) throw new Error('bundle hash mismatch after the copy')
    try { fs.renameSync(tmp, final) } catch (e) { if (!fs.existsSync(path.join(final, 'host', 'index.js'))) throw e }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  process.stdout.write('installed ' + m.hash + '\\n')
})
`

/** The exit code of VERIFIER for a cached bundle that does not match its hash (it removed it). */
export const BUNDLE_DAMAGED_EXIT = 253

/**
 * Run as `node -e VERIFIER <hash> <agent args…>` (fixed code, no input in it) before every run the
 * runner starts: hashes every file of ~/.cache/pm2-safe-deploy/<hash>/ as the installer did and,
 * only when the whole matches, runs the agent there with the args. A truncated or altered cache is
 * removed (the runner installs it again) and never run.
 */
export const VERIFIER = `
const fs = require('fs'), path = require('path'), crypto = require('crypto'), url = require('url')
const sha = (d) => crypto.createHash('sha256').update(d).digest('hex')
const hash = process.argv[1]
if (!/^[0-9a-f]{64}$/.test(hash)) { process.stderr.write('bad bundle hash\\n'); process.exit(2) }
const root = path.join(process.env.HOME, '${CACHE_DIR}', hash)
const files = []
const walk = (rel) => {
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? rel + '/' + e.name : e.name
    if (e.isDirectory()) walk(r)
    else files.push(r)
  }
}
let ok = false
try {
  for (const part of ${JSON.stringify(BUNDLE_PARTS)}) walk(part)
  const list = files.sort((a, b) => (a < b ? -1 : 1)).map((f) => f + '\\0' + sha(fs.readFileSync(path.join(root, f))) + '\\n').join('')
  ok = sha(list) === hash
} catch (e) {
  ok = false
}
if (!ok) {
  const aside = root + '.damaged-' + process.pid
  try { fs.renameSync(root, aside); fs.rmSync(aside, { recursive: true, force: true }) } catch (e) {}
  process.stderr.write('pm2-safe-deploy: the cached bundle ' + hash.slice(0, 12) + ' does not match its sha256 (truncated or altered): removed, not run\\n')
  process.exit(${253})
}
const agent = path.join(root, 'host', 'index.js')
process.argv = [process.execPath, agent, ...process.argv.slice(2)]
import(url.pathToFileURL(agent).href)
`

/** `node -e VERIFIER <hash> <args…>`'s arguments after node: the agent of this bundle, verified first. */
export function verifiedAgentArgs(hash: string, args: readonly string[]): string[] {
  return ['-e', VERIFIER, hash, ...args]
}

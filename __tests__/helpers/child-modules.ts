// Some tests need real concurrency: several node processes racing on one file. Those
// children run plain JavaScript, so this compiles the src/ modules they need, and the
// modules those import (type stripping only), into a tree under the repo's .tmp/: package
// imports (zod, @actions/core) then resolve to this repo's node_modules as they do in src/.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { ROOT } from './daemon.js'

const SRC = path.join(ROOT, 'src')

/** Compiles src/<name>.ts (e.g. `shell/lock`) and what it imports; returns file URLs by base name. */
export function compileSrcModules(names: readonly string[]): { urls: Record<string, string>; dir: string } {
  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true })
  const dir = fs.mkdtempSync(path.join(ROOT, '.tmp', 'child-modules-'))
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n')
  const done = new Set<string>()
  const compile = (rel: string) => {
    if (done.has(rel)) return
    done.add(rel)
    const source = fs.readFileSync(path.join(SRC, `${rel}.ts`), 'utf8')
    const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, `${rel}.js`), out)
    for (const [, spec] of out.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      compile(path.posix.join(path.posix.dirname(rel), spec!))
    }
  }
  for (const name of names) compile(name)
  return { urls: Object.fromEntries(names.map((n) => [path.posix.basename(n), pathToFileURL(path.join(dir, `${n}.js`)).href])), dir }
}

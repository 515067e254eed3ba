// Some tests need real concurrency: several node processes racing on one file. Those
// children run plain JavaScript, so this compiles the few src/ modules they need
// (type stripping only) into a temp dir, with `zod` pointed at this repo's copy.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { ROOT } from './daemon.js'

/** Compiles src/<name>.ts (`shell/audit`, …) for each name into `outDir` as ES modules; returns file URLs by name. */
export function compileSrcModules(names: readonly string[], outDir: string): Record<string, string> {
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'package.json'), '{ "type": "module" }\n')
  const zod = pathToFileURL(path.join(ROOT, 'node_modules', 'zod', 'index.js')).href
  const urls: Record<string, string> = {}
  for (const name of names) {
    const source = fs.readFileSync(path.join(ROOT, 'src', `${name}.ts`), 'utf8')
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false }
    }).outputText
    const file = path.join(outDir, `${name}.js`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, out.replace(/from\s+['"]zod['"]/g, `from ${JSON.stringify(zod)}`))
    urls[name] = pathToFileURL(file).href
  }
  return urls
}

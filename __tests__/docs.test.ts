// The README, action.yml, the report schema and the workflows must not drift apart:
// the inputs/outputs tables against action.yml, the report's field tables against the
// zod schema, docs/report.schema.json against the schema, and every `with:` of the
// self-test workflows against the declared inputs.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import YAML from 'yaml'
import { DeployReportSchema, reportJsonSchema } from '../src/core/report-schema.js'
import { ROOT } from './helpers/daemon.js'
import { codeBlocks } from './helpers/markdown.js'

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const ACTION = YAML.parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { required?: boolean; default?: string }>
  outputs: Record<string, unknown>
  runs: { using: string }
}

/** The text of a `## title` section, up to the next `## ` heading. */
function section(title: string): string {
  const start = README.search(new RegExp(`^## ${title}\\s*$`, 'm'))
  expect(start, `README has no "## ${title}" section`).toBeGreaterThanOrEqual(0)
  const rest = README.slice(start + 3)
  const end = rest.search(/^## /m)
  return end < 0 ? rest : rest.slice(0, end)
}

/** Rows of the first Markdown table in `text`, cells trimmed, header and rule dropped. */
function tableRows(text: string): string[][] {
  const lines = text.split('\n')
  const first = lines.findIndex((l) => l.startsWith('|'))
  const rows: string[][] = []
  for (let i = first + 2; first >= 0 && i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(lines[i]!.replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim()))
  }
  return rows
}

const codeSpans = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
const unquote = (cell: string) => (cell === "''" || cell === "`''`" ? '' : cell.replace(/^`(.*)`$/, '$1'))

describe('README inputs and outputs match action.yml', () => {
  test('inputs: the same names, in the same order, with the same defaults and required flags', () => {
    const rows = tableRows(section('Inputs'))
    expect(rows.map((r) => unquote(r[0]!))).toEqual(Object.keys(ACTION.inputs))
    for (const [name, def, meaning] of rows) {
      const input = ACTION.inputs[unquote(name!)]!
      if (input.required) expect(def, name).toBe('required')
      else expect(unquote(def!), name).toBe(String(input.default ?? ''))
      expect(meaning, name).not.toBe('')
    }
  })

  test('every `with:` of a README step that uses the action names a declared input', () => {
    const steps: { uses?: string; with?: Record<string, unknown> }[] = []
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect)
      else if (v && typeof v === 'object') {
        const o = v as { uses?: unknown; with?: Record<string, unknown> }
        if (typeof o.uses === 'string' && /pm2-safe-deploy/.test(o.uses)) steps.push(o as (typeof steps)[number])
        Object.values(o).forEach(collect)
      }
    }
    for (const block of codeBlocks(README).filter((b) => b.lang === 'yaml')) collect(YAML.parse(block.text))
    expect(steps.length).toBeGreaterThan(4)
    for (const s of steps) for (const k of Object.keys(s.with ?? {})) expect(Object.keys(ACTION.inputs), k).toContain(k)
  })

  test('outputs: the same names, in the same order', () => {
    const rows = tableRows(section('Outputs'))
    expect(rows.map((r) => unquote(r[0]!))).toEqual(Object.keys(ACTION.outputs))
  })
})

type Def = { type: string; shape?: Record<string, { _zod: { def: Def } }>; innerType?: { _zod: { def: Def } }; element?: { _zod: { def: Def } } }
const defOf = (s: unknown) => (s as { _zod: { def: Def } })._zod.def

/** Every object in the report schema by path ('' for the top level; `[]` for array items), with its keys. */
function schemaObjects(): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const walk = (def: Def, p: string) => {
    if (def.type === 'nullable' || def.type === 'optional') return walk(defOf(def.innerType), p)
    if (def.type === 'array') return walk(defOf(def.element), `${p}[]`)
    if (def.type !== 'object') return
    out.set(p, Object.keys(def.shape!))
    for (const [k, v] of Object.entries(def.shape!)) walk(defOf(v), p ? `${p}.${k}` : k)
  }
  walk(defOf(DeployReportSchema), '')
  return out
}

describe('.env.example (npm run local-action)', () => {
  test('sets every input of action.yml, in order: `node scripts/env-example.mjs` rewrites it', () => {
    const text = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')
    const names = [...text.matchAll(/^INPUT_([A-Z0-9-]+)=/gm)].map((m) => m[1]!.toLowerCase())
    expect(names).toEqual(Object.keys(ACTION.inputs))
  })
})

describe('README documents the JSON report schema', () => {
  const text = section('JSON report')
  const documented = new Map<string, string[]>()
  for (const part of text.split(/^#### /m).slice(1)) {
    const heading = part.split('\n')[0]!
    const paths = heading.trim() === 'Top level' ? [''] : codeSpans(heading)
    const keys = tableRows(part).map((r) => unquote(r[0]!))
    for (const p of paths) documented.set(p, keys)
  }

  test('every object of the schema has a table, with exactly its fields, in order', () => {
    const schema = schemaObjects()
    expect([...documented.keys()].sort()).toEqual([...schema.keys()].sort())
    for (const [p, keys] of schema) expect(documented.get(p), `README table for "${p || 'Top level'}"`).toEqual(keys)
  })

  test('it names the schema version the action writes', () => {
    expect(text).toMatch(/`schemaVersion` \| `1` \|/)
    expect(DeployReportSchema.shape.schemaVersion.value).toBe(1)
  })
})

test('docs/report.schema.json is the JSON Schema of the zod schema (regenerate with vitest -u)', async () => {
  await expect(JSON.stringify(reportJsonSchema(), null, 2) + '\n').toMatchFileSnapshot('../docs/report.schema.json')
})

describe('workflows', () => {
  const files = ['.github/workflows/ci.yml', '.github/workflows/self-test.yml', '.gitea/workflows/self-test.yml']
  type Step = { uses?: string; with?: Record<string, unknown>; run?: string }
  const load = (f: string) => YAML.parse(fs.readFileSync(path.join(ROOT, f), 'utf8')) as { jobs: Record<string, { steps: Step[] }> }

  test.each(files)('%s: node 24, actions/checkout and actions/setup-node', (f) => {
    const steps = Object.values(load(f).jobs).flatMap((j) => j.steps)
    expect(steps.some((s) => s.uses?.startsWith('actions/checkout@'))).toBe(true)
    const setup = steps.find((s) => s.uses?.startsWith('actions/setup-node@'))
    expect(setup?.with?.['node-version']).toBe(24)
  })

  test.each(files.slice(1))('%s: runs the action with uses: ./ and only declared inputs', (f) => {
    const steps = Object.values(load(f).jobs).flatMap((j) => j.steps)
    const own = steps.filter((s) => s.uses === './')
    expect(own.length).toBeGreaterThanOrEqual(2)
    for (const s of own) for (const k of Object.keys(s.with ?? {})) expect(Object.keys(ACTION.inputs), k).toContain(k)
  })

  test('the GitHub and Gitea self-tests run the same steps', () => {
    expect(load('.gitea/workflows/self-test.yml').jobs).toEqual(load('.github/workflows/self-test.yml').jobs)
  })

  test('ci runs what .ci/run runs', () => {
    const runs = Object.values(load('.github/workflows/ci.yml').jobs).flatMap((j) => j.steps.map((s) => s.run ?? ''))
    const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')
    for (const cmd of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm run bundle', 'npm test']) {
      expect(ci).toContain(cmd)
      expect(runs.some((r) => r.includes(cmd)), cmd).toBe(true)
    }
    expect(runs.some((r) => r.includes('git status --porcelain -- dist'))).toBe(true)
  })

  test('the action runs on node24', () => {
    expect(ACTION.runs.using).toBe('node24')
  })
})

// Workflow YAML checked by GitHub's own parser (@actions/workflow-parser, the one behind the
// workflow editor), and README examples made whole workflows first: a README block may be a
// workflow, a job, a list of steps or one step, shown at the indentation it has in a file.
// The parser imports its JSON schema without an import attribute: a vitest project that uses
// this helper needs `server: { deps: { inline: ['@actions/workflow-parser'] } }`.
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import YAML from 'yaml'
import type { CodeBlock } from './markdown.js'

export type WorkflowError = { line: number | null; column: number | null; message: string }

/** What GitHub would refuse in a workflow file: schema, expressions, then the model (jobs, needs, matrix). */
export async function workflowErrors(name: string, content: string): Promise<WorkflowError[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  // The converter adds its errors to the same context; it is skipped when parsing failed.
  if (parsed.value && parsed.context.errors.getErrors().length === 0) await convertWorkflowTemplate(parsed.context, parsed.value)
  return parsed.context.errors.getErrors().map((e) => ({
    line: e.range?.start.line ?? null,
    column: e.range?.start.column ?? null,
    message: e.rawMessage.trim()
  }))
}

export type PieceKind = 'workflow' | 'job' | 'steps' | 'step' | 'with'

/** A README block made into a whole workflow; `prefix` lines were put before the block's own. */
export type WorkflowPiece = { kind: PieceKind; content: string; prefix: number }

const JOB_KEYS = ['runs-on', 'steps', 'strategy', 'needs', 'services', 'container', 'outputs', 'environment', 'concurrency', 'permissions', 'defaults']
const STEP_KEYS = ['uses', 'run']
const HEAD = ['on: workflow_dispatch', 'jobs:', '  readme:']
const STEPS_HEAD = [...HEAD, '    runs-on: ubuntu-latest', '    steps:']

const dedent = (text: string): string[] => {
  const lines = text.replace(/\n+$/, '').split('\n')
  const depth = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.match(/^ */)![0].length))
  return lines.map((l) => l.slice(Math.min(depth, l.match(/^ */)![0].length)))
}

const wrap = (kind: PieceKind, head: string[], lines: string[], indent: number): WorkflowPiece => ({
  kind,
  prefix: head.length,
  content: [...head, ...lines.map((l) => (l.trim() === '' ? '' : ' '.repeat(indent) + l))].join('\n') + '\n'
})

/**
 * The whole workflow a README YAML block stands for, or null for YAML that is none of a
 * workflow, a job, steps, a step, or a step's `with:` (shown for this action: `uses:` is added).
 * A workflow shown without `on:` gets one, after its own lines.
 */
export function asWorkflow(block: Pick<CodeBlock, 'text'>): WorkflowPiece | null {
  const lines = dedent(block.text)
  let value: unknown
  try {
    value = YAML.parse(lines.join('\n'))
  } catch {
    return { kind: 'workflow', prefix: 0, content: lines.join('\n') + '\n' } // the parser says what is wrong
  }
  if (Array.isArray(value)) return wrap('steps', STEPS_HEAD, lines, 6)
  if (!value || typeof value !== 'object') return null
  const keys = Object.keys(value)
  if (keys.includes('jobs')) return { kind: 'workflow', prefix: 0, content: lines.join('\n') + (keys.includes('on') ? '\n' : '\non: workflow_dispatch\n') }
  if (keys.some((k) => JOB_KEYS.includes(k))) return wrap('job', HEAD, lines, 4)
  if (keys.some((k) => STEP_KEYS.includes(k))) return wrap('step', [...STEPS_HEAD, '      -'], lines, 8)
  if (keys.includes('with')) return wrap('with', [...STEPS_HEAD, '      -', '        uses: your-org/pm2-safe-deploy@v1'], lines, 8)
  return null
}

/** Every `with:` key of a step that runs this action (`uses: ./` or `…/pm2-safe-deploy@…`), with its 1-based line. */
export function actionInputKeys(content: string): { uses: string; key: string; line: number }[] {
  const lineCounter = new YAML.LineCounter()
  const doc = YAML.parseDocument(content, { lineCounter })
  const found: { uses: string; key: string; line: number }[] = []
  YAML.visit(doc, {
    Map(_, map) {
      const uses = map.get('uses')
      const inputs = map.get('with', true)
      if (typeof uses !== 'string' || !(uses === './' || /(^|\/)pm2-safe-deploy@/.test(uses)) || !YAML.isMap(inputs)) return
      for (const pair of inputs.items) {
        const key = YAML.isScalar(pair.key) ? pair.key : null
        if (key) found.push({ uses, key: String(key.value), line: lineCounter.linePos(key.range?.[0] ?? 0).line })
      }
    }
  })
  return found
}

/**
 * What is wrong with the workflow examples of a Markdown file, one sentence each, naming the
 * block by its heading and the file's line: the parser's errors, blocks that are no workflow
 * piece, and `with:` keys of this action that `inputs` does not declare.
 */
export async function markdownWorkflowProblems(file: string, blocks: CodeBlock[], inputs: string[]): Promise<string[]> {
  const problems: string[] = []
  for (const block of blocks.filter((b) => b.lang === 'yaml' || b.lang === 'yml')) {
    const where = `${file}:${block.line} (the YAML block under "${block.heading || 'the top'}")`
    const piece = asWorkflow(block)
    if (!piece) {
      problems.push(`${where} is not a workflow, a job, steps, a step or a step's with: (the parser test cannot check it); show it as one of those, or fence it as another language`)
      continue
    }
    const last = block.line + block.text.replace(/\n+$/, '').split('\n').length - 1
    // A line of the whole workflow → the file's line (the lines added around the block → its ends).
    const toFileLine = (line: number | null) => (line === null ? block.line : Math.min(Math.max(block.line + line - 1 - piece.prefix, block.line), last))
    for (const e of await workflowErrors(`${file}:${block.line}`, piece.content)) {
      // Gitea's own `gitea.*` context is the one thing Gitea reads that GitHub refuses; `github.*` works on both.
      const hint = /named-value: 'gitea'/.test(e.message) ? ' (Gitea reads github.* too: write ${{ github.… }} so the example works on both)' : ''
      problems.push(`${file}:${toFileLine(e.line)} (the YAML block under "${block.heading || 'the top'}", from line ${block.line}, as a ${piece.kind}): ${e.message}${hint}`)
    }
    for (const { key, line } of actionInputKeys(piece.content).filter((k) => !inputs.includes(k.key))) {
      problems.push(`${file}:${toFileLine(line)} (the YAML block under "${block.heading || 'the top'}", from line ${block.line}): with: ${key} is not an input of action.yml`)
    }
  }
  return problems
}

// GitHub's own workflow parser (@actions/workflow-parser) over every workflow file of this
// repository and every workflow example in the README: users paste those as they are, so an
// example GitHub would reject fails here, named by its heading and README line.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import YAML from 'yaml'
import { codeBlocks } from '../helpers/markdown.js'
import { actionInputKeys, asWorkflow, markdownWorkflowProblems, workflowErrors } from '../helpers/workflows.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const INPUTS = Object.keys((YAML.parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs)
const WORKFLOW_FILES = ['.github/workflows', '.gitea/workflows'].flatMap((dir) =>
  fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `${dir}/${f}`)
)
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')

const BROKEN = `on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: your-org/pm2-safe-deploy@v1
        wtih:
          app: shop
`

describe('codeBlocks', () => {
  test('each fenced block with its language, first line and the headings above it', () => {
    const md = ['# T', '## A', '```sh', 'x', '```', '### B', '- a list item:', '', '  ```yaml', '  k: v', '    deeper: 1', '  ```', '## C', '~~~', '```not a fence', '~~~', '```yaml', 'open: to the end'].join('\n')
    expect(codeBlocks(md)).toEqual([
      { lang: 'sh', text: 'x\n', line: 4, heading: '## A' },
      { lang: 'yaml', text: 'k: v\n  deeper: 1\n', line: 10, heading: '## A › ### B' },
      { lang: '', text: '```not a fence\n', line: 15, heading: '## C' },
      { lang: 'yaml', text: 'open: to the end\n', line: 18, heading: '## C' }
    ])
  })

  test('a heading-like line inside a block is not a heading', () => {
    expect(codeBlocks('## A\n```sh\n## not a heading\n```\n```yaml\nk: 1\n```\n').map((b) => b.heading)).toEqual(['## A', '## A'])
  })
})

describe('the workflow files', () => {
  test('there are the ci, self-test and release workflows, for GitHub and Gitea', () => {
    expect(WORKFLOW_FILES).toEqual(expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/self-test.yml', '.github/workflows/release.yml', '.gitea/workflows/self-test.yml']))
  })

  test.each(WORKFLOW_FILES)('%s: GitHub\'s parser accepts it', async (file) => {
    const errors = await workflowErrors(file, fs.readFileSync(path.join(ROOT, file), 'utf8'))
    expect(errors.map((e) => `${file}:${e.line ?? '?'}:${e.column ?? '?'}: ${e.message}`)).toEqual([])
  })

  test.each(WORKFLOW_FILES)('%s: every with: of this action names an input of action.yml', (file) => {
    const keys = actionInputKeys(fs.readFileSync(path.join(ROOT, file), 'utf8'))
    expect(keys.filter((k) => !INPUTS.includes(k.key)).map((k) => `${file}:${k.line}: with: ${k.key} is not an input of action.yml`)).toEqual([])
  })
})

describe('the release workflow', () => {
  type Step = { uses?: string; run?: string; if?: string }
  type Job = { needs?: string; permissions?: Record<string, string>; steps: Step[] }
  const release = YAML.parse(fs.readFileSync(path.join(ROOT, '.github/workflows/release.yml'), 'utf8')) as { on: { push: { tags: string[] } }; permissions: Record<string, string>; jobs: Record<string, Job> }
  const runs = (job: string) => release.jobs[job]!.steps.map((s) => s.run ?? '')

  test('runs on release tags, with read-only permissions but where it publishes', () => {
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } })
    expect(release.permissions).toEqual({ contents: 'read' })
    expect(release.jobs.publish!.needs).toBe('check')
    expect(release.jobs.publish!.permissions).toEqual({ contents: 'write' })
  })

  test('checks the versions, runs .ci/run itself, and checks dist/ against a fresh build, before publishing', () => {
    const check = runs('check')
    const order = ['node scripts/check-release.mjs "$GITHUB_REF_NAME"', '.ci/run', 'git status --porcelain -- dist', 'node scripts/changelog-section.mjs "$GITHUB_REF_NAME"']
    const at = order.map((cmd) => check.findIndex((r) => r.includes(cmd)))
    expect(at.every((i) => i >= 0), JSON.stringify(at)).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toContain('git status --porcelain -- dist')
  })

  test('drafts the release from the CHANGELOG section and moves the major tag only when told to', () => {
    const publish = release.jobs.publish!.steps
    expect(publish.some((s) => s.run?.includes('changelog-section.mjs') && s.run.includes('gh release create') && s.run.includes('--draft'))).toBe(true)
    const move = publish.find((s) => s.run?.includes('git push --force origin "refs/tags/$MAJOR"'))
    expect(move?.if).toBe("needs.check.outputs.move-major == 'true'")
  })
})

test('every workflow pins each action the same way, by a major tag or a full commit sha', () => {
  const refs = new Map<string, Set<string>>()
  for (const file of WORKFLOW_FILES) {
    for (const m of fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/^\s*-?\s*uses:\s*([^\s#]+)/gm)) {
      const [action, ref] = m[1]!.split('@')
      if (action === './' || action === '.') continue
      expect(ref, `${file}: ${m[1]}`).toMatch(/^(v\d+|[0-9a-f]{40})$/)
      refs.set(action!, (refs.get(action!) ?? new Set()).add(ref!))
    }
  }
  for (const [action, used] of refs) expect([...used], action).toHaveLength(1)
})

describe('the README workflow examples', () => {
  const yamlBlocks = codeBlocks(README).filter((b) => b.lang === 'yaml' || b.lang === 'yml')

  test('there are examples to check, of each shape the README uses', () => {
    const kinds = new Set(yamlBlocks.map((b) => asWorkflow(b)?.kind))
    expect(yamlBlocks.length).toBeGreaterThan(8)
    for (const k of ['workflow', 'job', 'steps'] as const) expect(kinds, k).toContain(k)
  })

  test('GitHub\'s parser accepts every one, and each with: names an input of action.yml', async () => {
    expect(await markdownWorkflowProblems('README.md', yamlBlocks, INPUTS)).toEqual([])
  })
})

describe('the check itself rejects what GitHub rejects', () => {
  test('with: keys of this action are found with their lines, other actions\' are not', () => {
    const content = 'jobs:\n  a:\n    steps:\n      - uses: ./\n        with: { app: a }\n      - uses: actions/setup-node@v5\n        with:\n          node-version: 24\n      - uses: https://gitea.example.com/o/pm2-safe-deploy@v1\n        with:\n          app: b\n          pm2-home: /x\n'
    expect(actionInputKeys(content)).toEqual([
      { uses: './', key: 'app', line: 5 },
      { uses: 'https://gitea.example.com/o/pm2-safe-deploy@v1', key: 'app', line: 11 },
      { uses: 'https://gitea.example.com/o/pm2-safe-deploy@v1', key: 'pm2-home', line: 12 }
    ])
  })

  test('a broken workflow string gets the parser\'s error, with its line', async () => {
    expect(await workflowErrors('broken.yml', BROKEN)).toEqual([{ line: 7, column: 9, message: "Unexpected value 'wtih'" }])
    expect(await workflowErrors('ok.yml', BROKEN.replace('wtih', 'with'))).toEqual([])
  })

  test('the model is checked too: a job that needs one that does not exist', async () => {
    const errors = await workflowErrors('needs.yml', 'on: push\njobs:\n  a:\n    needs: b\n    runs-on: x\n    steps:\n      - run: echo\n')
    expect(errors.map((e) => e.message).join('\n')).toMatch(/needs|dependencies/i)
  })

  test('an expression GitHub cannot read, and a context a key does not allow', async () => {
    const step = (run: string) => `on: push\njobs:\n  a:\n    runs-on: ${run}\n    steps:\n      - run: echo\n`
    expect((await workflowErrors('x.yml', step('${{ github.sha'))).map((e) => e.message)).toEqual([expect.stringMatching(/expression is not closed/)])
    expect((await workflowErrors('x.yml', step('${{ steps.a.outputs.b }}'))).map((e) => e.message)).toEqual([expect.stringMatching(/Unrecognized named-value: 'steps'/)])
  })

  test('a README block GitHub would reject fails, named by its heading and README line', async () => {
    const markdown = [
      '# Title', '', '## Use it', '', '### Fleets', '', 'Text.', '',
      '```yaml',
      '      - uses: your-org/pm2-safe-deploy@v1',
      '        wtih:',
      '          app: shop',
      '```',
      '',
      '### Several hosts',
      '',
      '```yaml',
      '    runs-on: [self-hosted, web-1]',
      '    strategy:',
      '      matrix: { host: [a, b] }',
      '    steps:',
      '      - uses: your-org/pm2-safe-deploy@v1',
      '        with:',
      '          app: shop',
      '          ssh-hots: web-1',
      '```',
      '',
      '```yaml',
      'name: deploy',
      'on:',
      '  push:',
      '    branch: [main]',
      'jobs:',
      '  deploy:',
      '    runs-on: x',
      '    steps:',
      "      - run: echo '${{ secrets.TOKEN }'",
      '```'
    ].join('\n')
    const problems = await markdownWorkflowProblems('README.md', codeBlocks(markdown), INPUTS)
    expect(problems).toEqual([
      `README.md:11 (the YAML block under "## Use it › ### Fleets", from line 10, as a steps): Unexpected value 'wtih'`,
      'README.md:25 (the YAML block under "## Use it › ### Several hosts", from line 18): with: ssh-hots is not an input of action.yml',
      `README.md:32 (the YAML block under "## Use it › ### Several hosts", from line 29, as a workflow): Unexpected value 'branch'`,
      expect.stringMatching(/^README\.md:37 \(the YAML block under "## Use it › ### Several hosts", from line 29, as a workflow\): .*expression is not closed/)
    ])
  })

  test('YAML that is no workflow piece is reported, not skipped', async () => {
    const problems = await markdownWorkflowProblems('README.md', codeBlocks('## Config\n\n```yaml\nretries: 3\n```\n'), INPUTS)
    expect(problems).toEqual([expect.stringMatching(/^README\.md:4 \(the YAML block under "## Config"\) is not a workflow, a job, steps, a step or a step's with:/)])
  })

  test('a Gitea-only context is named as such, with the form that works on both', async () => {
    const problems = await markdownWorkflowProblems('README.md', codeBlocks('## Gitea\n\n```yaml\n      - run: echo ${{ gitea.sha }}\n```\n'), INPUTS)
    expect(problems).toEqual([expect.stringMatching(/^README\.md:4 .*Unrecognized named-value: 'gitea'.*\(Gitea reads github\.\* too/)])
  })

  test('a lone with: is checked as a step of this action', async () => {
    const problems = await markdownWorkflowProblems('README.md', codeBlocks('## X\n\n```yaml\nwith:\n  app: shop\n  colour: blue\n```\n'), INPUTS)
    expect(problems).toEqual(['README.md:6 (the YAML block under "## X", from line 4): with: colour is not an input of action.yml'])
  })
})

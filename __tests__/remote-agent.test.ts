// The host agent (dist/host/index.js) run directly, as the runner's ssh commands run it, in a
// throwaway HOME: the windows of issue 23 that live on the host. A cancel that arrives while the
// host's node is still starting (before main.pid) is not lost (point 8); a run name claimed
// after a lost start answer can never start later (point 3); the staging area of `upload`.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { ROOT } from './helpers/daemon.js'

const AGENT = path.join(ROOT, 'dist', 'host', 'index.js')
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-agent-'))
afterAll(() => fs.rmSync(home, { recursive: true, force: true }))

function agent(args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [AGENT, ...args], { input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, timeout: 30_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const runs = () => path.join(home, '.cache', 'pm2-safe-deploy', 'runs')

describe('the host cancel (issue 23, point 8)', () => {
  test('a cancel before the main step wrote its pid: answered stopped, and the main step then refuses to run', () => {
    const dir = path.join(runs(), 'run-a')
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    for (const f of ['state', 'output', 'log']) fs.writeFileSync(path.join(dir, f), '')
    fs.writeFileSync(path.join(dir, 'inputs.json'), JSON.stringify({ HOME: home, GITHUB_WORKSPACE: home, PATH: process.env.PATH }))
    const marker = path.join(home, 'main-ran')
    const main = path.join(home, 'main.mjs')
    fs.writeFileSync(main, `import fs from 'node:fs'; fs.writeFileSync(${JSON.stringify(marker)}, 'ran')\n`)
    // No main.pid yet: the host's node is still starting.
    const c = agent(['cancel', dir])
    expect(JSON.parse(c.stdout)).toEqual({ state: 'stopped' })
    const m = agent(['exec-main', dir, main])
    expect(m.code).toBe(1)
    expect(m.stdout).toContain('::error title=Deploy cancelled::')
    expect(fs.existsSync(marker)).toBe(false)
  })
})

describe('claiming a run whose start answer was lost (issue 23, point 3)', () => {
  test('an unknown name is claimed: never-started, and a late start of it refuses', () => {
    expect(JSON.parse(agent(['claim', 'late-run']).stdout)).toEqual({ state: 'never-started' })
    const s = agent(['start'], JSON.stringify({ tag: 't', run: 'late-run', inputs: {}, env: {} }))
    expect(s.code).toBe(5)
    expect(s.stderr).toMatch(/claimed before it started/)
    expect(JSON.parse(agent(['claim', 'late-run']).stdout)).toEqual({ state: 'never-started' })
  })
  test('a run that started is found by its name', () => {
    fs.mkdirSync(path.join(runs(), 'started-run'), { recursive: true })
    expect(JSON.parse(agent(['claim', 'started-run']).stdout)).toEqual({ state: 'started', runDir: path.join(runs(), 'started-run') })
  })
  test('a name that is not one is refused', () => {
    expect(agent(['claim', '../x']).code).toBe(3)
  })
})

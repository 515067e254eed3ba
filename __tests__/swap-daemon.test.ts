// Below the action, on a real PM2 daemon (private PM2_HOME): the stale-release trap the swap
// exists for (startOrReload after a switch leaves r1's code running, and the "runs what the file
// says" rule catches it), and the reader's swap flags and env mode. The swap, recreate and
// rollback through the bundled action are in release-switch.test.ts.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import type { AppTarget } from '../src/core/swap.js'
import { staleProcesses } from '../src/core/release.js'
import { Pm2Session } from '../src/shell/pm2/session.js'
import { runningFacts } from '../src/shell/proc.js'
import { switchLink } from '../src/shell/release.js'
import { APPS, daemonsForThisFile, PM2_BIN, ROOT, testEnv } from './helpers/daemon.js'
import { freePort } from './helpers/load.js'

// The bundled reader (global setup bundles dist/ for the e2e tests).
const READER = path.join(ROOT, 'dist', 'reader', 'index.js')

const daemon = daemonsForThisFile()
const sessions: Pm2Session[] = []
afterAll(() => sessions.forEach((s) => s.close()))

function release(root: string, name: string, port: number): string {
  const dir = path.join(root, 'releases', name)
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(path.join(APPS, 'http-server.cjs'), path.join(dir, 'server.js'))
  const app = { name: 'web', script: 'server.js', cwd: '__DIRNAME__', exec_mode: 'cluster', instances: 2, kill_timeout: 3000, env: { PORT: String(port), RELEASE: 'unset' }, env_production: { RELEASE: name } }
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [${JSON.stringify(app).replace('"__DIRNAME__"', '__dirname')}] }\n`)
  return fs.realpathSync(dir)
}

test('the stale-release trap the swap avoids: startOrReload after the switch leaves r1 code running', async () => {
  const d = daemon('trap')
  const port = await freePort()
  const root = fs.realpathSync(d.dir)
  const r1 = release(root, 'r1', port)
  const r2 = release(root, 'r2', port)
  const current = path.join(root, 'current')
  fs.symlinkSync(r1, current)
  d.pm2(['-s', 'start', path.join(current, 'ecosystem.config.js'), '--env', 'production'], {}, current)
  await d.waitOnline()
  const switchedAt = Date.now()
  switchLink(current, r2)
  d.pm2(['-s', 'startOrReload', path.join(current, 'ecosystem.config.js'), '--env', 'production', '--update-env'], {}, current)
  await d.waitOnline()
  const pm2 = await Pm2Session.open({ pm2Path: PM2_BIN, pm2Home: d.home, env: testEnv(d.home), workingDirectory: r2 })
  sessions.push(pm2)
  const mine = (await pm2.list()).filter((p) => p.name === 'web')
  const want: AppTarget = { name: 'web', script: path.join(r2, 'server.js'), cwd: r2, interpreter: 'node', execMode: 'cluster', instances: 2, namespace: null }
  const stale = staleProcesses(runningFacts(mine), new Map([['web', want]]), { switchedAt, releaseDir: r2 })
  expect(stale).toHaveLength(2)
  expect(stale[0]!.message).toMatch(/runs from .*releases\/r1, the file says .*releases\/r2/)
}, 120_000)

test('the reader: swap flags in its answer; the exec mode runs a command with the app env (name/namespace/pm_id dropped)', async () => {
  const dir = fs.realpathSync(daemon('reader').dir)
  const file = path.join(dir, 'ecosystem.config.js')
  const app = { name: 'web', script: 'server.js', node_args: '--max-old-space-size=256', merge_logs: true, min_uptime: 5000, args: '--port 3000', env: { A: 'base', name: 'evil' }, env_production: { A: 'prod', namespace: 'x' } }
  fs.writeFileSync(file, `module.exports = { apps: [${JSON.stringify(app)}] }\n`)
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [READER, ...args], { env: { PATH: process.env.PATH ?? '', KEEP: 'k' }, cwd: dir }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
    )
  const answer = (await run([file])).split('\n').find((l) => l.startsWith('@@pm2-safe-deploy-ecosystem@@'))!
  const parsed = JSON.parse(answer.slice('@@pm2-safe-deploy-ecosystem@@'.length)) as { apps: Array<{ swap: unknown }> }
  expect(parsed.apps[0]!.swap).toEqual({ flags: ['--node-args=--max-old-space-size=256', '--merge-logs'], unsupported: ['min_uptime'], args: ['--port', '3000'] })
  expect(answer).not.toContain('prod')
  const printed = await run(['--exec-with-app-env', file, 'web', 'production', '--', process.execPath, '-e', 'console.log(JSON.stringify([process.env.A, process.env.KEEP, process.env.name, process.env.namespace]))'])
  expect(JSON.parse(printed)).toEqual(['prod', 'k', null, null])
})


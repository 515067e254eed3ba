// `npm run local-action`, as the README shows it: GitHub's @github/local-action runs
// src/main.ts and src/post.ts in-process with its own @actions/core, from a .env file,
// here a dry run against a private daemon. It proves run() works through the toolkit's
// stub (an action that bypassed @actions/core would show no outputs here).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import { APPS, daemonsForThisFile, ROOT } from './helpers/daemon.js'

const newDaemon = daemonsForThisFile()

test('npm run local-action plans and checks a dry run against a running daemon, and runs the post step', async () => {
  const d = newDaemon('local-action')
  d.start({ name: 'shop-api-test', script: `${APPS}/idle.cjs` })
  d.start({ name: 'shop-api', script: `${APPS}/idle.cjs` })
  await d.waitOnline()
  const before = d.fingerprint()
  // The committed example, pointed at this daemon and a workspace of its own.
  const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')
  const envFile = path.join(d.dir, '.env')
  fs.writeFileSync(
    envFile,
    example
      .replace(/^INPUT_PM2-HOME=.*$/m, `INPUT_PM2-HOME=${d.home}`)
      .replace(/^INPUT_SNAPSHOT-DIR=.*$/m, `INPUT_SNAPSHOT-DIR=${path.join(d.dir, 'runs')}`)
      .replace(/^LOCAL_ACTION_WORKSPACE=.*$/m, `LOCAL_ACTION_WORKSPACE=${d.dir}`)
  )
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js'), '.', 'src/main.ts', envFile, '--post', 'src/post.ts'], {
    cwd: ROOT,
    env: { PATH: `${path.join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, HOME: process.env.HOME ?? d.dir },
    encoding: 'utf8',
    timeout: 120_000
  })
  expect(r.status, r.stderr).toBe(0)
  expect(r.stdout).toMatch(/Running Post Step/)
  expect(r.stdout).toMatch(/'result'\s*│\s*'dry-run'/)
  expect(r.stdout).toMatch(/pm2 reload shop-api-test --update-env/)
  expect(d.fingerprint()).toEqual(before)
})

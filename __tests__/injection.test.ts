// Promise 14, end to end: an app whose log holds workflow commands, and process names and a
// namespace that look like them. The bundled action runs against a real PM2 daemon; its
// stdout is read the way GitHub's runner and act read it (helpers/runner-commands.ts).
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { NEUTRAL_MARK } from '../src/core/untrusted.js'
import { APPS, daemonsForThisFile, type TestDaemon } from './helpers/daemon.js'
import { runAction, type ActionRun } from './helpers/run-action.js'
import { actCommands, githubCommands, type RunnerCommand } from './helpers/runner-commands.js'

const newDaemon = daemonsForThisFile()
const SECRET = 'hunter2-env-value-of-the-app'

/** Commands only an app could have meant: none may reach a runner. */
const FOREIGN = ['add-mask', 'set-output', 'set-env', 'save-state', 'add-path', 'add-matcher', 'remove-matcher', 'echo']
const GUARD_TOKEN = /^pm2-safe-deploy-[0-9a-f]{24}$/

/** Every command a runner processed is one of the action's own, and its guards open and close. */
function expectOnlyOwnCommands(commands: RunnerCommand[], stdout: string): void {
  expect(commands.filter((c) => FOREIGN.includes(c.command.toLowerCase())), stdout).toEqual([])
  const stops = commands.filter((c) => c.command === 'stop-commands')
  for (const s of stops) {
    expect(s.data).toMatch(GUARD_TOKEN)
    expect(commands.some((c) => c.command === s.data)).toBe(true)
  }
  for (const c of commands.filter((x) => x.command === 'error')) expect(c.properties.title, c.line).toMatch(/^pm2-safe-deploy: /)
}

function writeEcosystem(dir: string, apps: object[]): void {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = ${JSON.stringify({ apps }, null, 2)}\n`)
}

describe('an app whose log speaks to the runner, crash-looping', () => {
  let d: TestDaemon
  let run: ActionRun
  beforeAll(async () => {
    d = newDaemon('inject')
    d.start({ name: 'stock-alert', script: path.join(APPS, 'idle.cjs') })
    await d.waitOnline()
    const work = path.join(d.dir, 'work')
    writeEcosystem(work, [{ name: 'shop-web', script: path.join(APPS, 'speaks-to-runner.cjs'), env: { CRASH_AFTER_MS: '1500', DB_PASSWORD: SECRET } }])
    run = await runAction({
      inputs: { app: 'shop', 'working-directory': work, ecosystem: 'ecosystem.config.js', 'stable-seconds': '6', 'timeout-seconds': '60', 'log-lines': '30' },
      pm2Home: d.home,
      baseDir: d.dir
    })
  }, 120_000)

  test('the outputs stand: result failed (GITHUB_OUTPUT), exit code 1', () => {
    expect(run.outputs.result, run.stdout).toBe('failed')
    expect(run.code).toBe(1)
  })

  test("the job log shows the app's lines as text, marked", () => {
    for (const line of ['::stop-commands::x', '::set-output name=result::deployed', '::add-mask::secret', '::error title=pm2-safe-deploy%3A deployed::all good, nothing to see']) {
      expect(run.stdout, line).toContain(`${NEUTRAL_MARK}${line}`)
    }
    expect(run.stdout).toContain(`${NEUTRAL_MARK}  ::warning::indented`)
    expect(run.stdout).toContain(`${NEUTRAL_MARK}## [set-output name=result;]deployed`)
    expect(run.stdout).toContain(`${NEUTRAL_MARK}GET /search?q=## [add-mask]x 404`)
  })

  test.each([
    ['GitHub', githubCommands],
    ['act', actCommands]
  ])("%s's runner processes only the action's own commands, its failure annotation included", (_, parse) => {
    const commands = parse(run.stdout)
    expectOnlyOwnCommands(commands, run.stdout)
    const errors = commands.filter((c) => c.command === 'error')
    expect(errors.length, run.stdout).toBeGreaterThan(0)
    expect(errors.at(-1)!.properties.title).toMatch(/^pm2-safe-deploy: /)
    expect(commands.some((c) => c.command === 'group' && c.data.startsWith('Last 30 log lines of shop-web'))).toBe(true)
  })

  test('the annotation and the summary name the cause it logged, and no environment value', () => {
    const annotation = githubCommands(run.stdout).filter((c) => c.command === 'error').at(-1)!
    expect(annotation.data.split('\n')).toContain('shop-web logged: Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432')
    expect(run.summary).toContain('**Cause**: `shop-web` logged `Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432`')
    expect(run.summary).toMatch(/<details><summary>Last \d+ log lines of <code>shop-web<\/code><\/summary>\n\n`{3,}text\n--- error: /)
    const report = fs.readFileSync(run.outputs.report!, 'utf8')
    for (const text of [run.stdout, run.summary, report]) expect(text).not.toContain(SECRET)
  })
})

describe('process names and a namespace that look like commands', () => {
  let d: TestDaemon
  let run: ActionRun
  const own = '::add-mask::shop-web'
  const neighbour = '::set-output name=result::failed'
  beforeAll(async () => {
    d = newDaemon('inject-names')
    d.start({ name: neighbour, script: path.join(APPS, 'idle.cjs'), namespace: '::stop-commands::ns' })
    d.start({ name: '##[add-mask]online', script: path.join(APPS, 'idle.cjs') })
    await d.waitOnline()
    const work = path.join(d.dir, 'work')
    writeEcosystem(work, [{ name: own, script: path.join(APPS, 'idle.cjs'), namespace: '::error::ns' }])
    run = await runAction({
      inputs: { app: '::add-mask::shop', 'working-directory': work, ecosystem: 'ecosystem.config.js', 'stable-seconds': '1', 'timeout-seconds': '60' },
      pm2Home: d.home,
      baseDir: d.dir
    })
  }, 120_000)

  test('the deploy goes through and its outputs are its own', () => {
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.outputs['own-processes']).toContain(own)
    expect(d.jlistRaw().find((p) => p.name === own)?.pm2_env.status).toBe('online')
  })

  test.each([
    ['GitHub', githubCommands],
    ['act', actCommands]
  ])('%s processes no command from a name or namespace', (_, parse) => {
    const commands = parse(run.stdout)
    expectOnlyOwnCommands(commands, run.stdout)
    expect(commands.filter((c) => c.command === 'stop-commands')).toEqual([])
    expect(commands.filter((c) => c.command === 'error')).toEqual([])
  })

  test('the names show in the log and the summary as text', () => {
    expect(run.stdout).toContain(`${NEUTRAL_MARK}  ${neighbour}`)
    expect(run.summary).toContain('`::set-output name=result::failed`')
    expect(run.summary).toContain('`::stop-commands::ns`')
  })
})

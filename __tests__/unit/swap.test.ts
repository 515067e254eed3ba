// The swap of a release switch as data: which apps move how, the commands and their
// gates, the ecosystem options a script start can carry, and the start's environment.
import { describe, expect, test } from 'vitest'
import { commandArgs, describeCommand, planReleaseDeploy } from '../../src/core/plan.js'
import { ecosystemOptionFlags, planMoves, planSwap, retireOld, swapStartEnv, type AppTarget } from '../../src/core/swap.js'
import { gateCommand, gatePmId, gatePmIds, gateScriptStart } from '../../src/core/targets.js'
import { processRecord } from '../helpers/process-record.js'

const R1 = '/var/www/app/releases/r1'
const R2 = '/var/www/app/releases/r2'
const web = (over: Partial<AppTarget> = {}): AppTarget => ({ name: 'web', script: `${R2}/server.js`, cwd: R2, interpreter: null, execMode: 'cluster', instances: 2, namespace: null, ...over })
const running = (pmId: number, over: Parameters<typeof processRecord>[0] extends infer T ? Partial<T> : never = {}) =>
  processRecord({ pmId, name: 'web', execMode: 'cluster', script: `${R1}/server.js`, cwd: R1, ...over })

describe('how each own app moves', () => {
  test('cluster app with a new release path: swap; fork app: recreate; same paths: in place; none yet: start', () => {
    const list = [running(0), running(1), processRecord({ pmId: 2, name: 'worker', execMode: 'fork', script: `${R1}/worker.js`, cwd: R1 })]
    const moves = planMoves(
      [web(), { ...web({ name: 'worker', script: `${R2}/worker.js`, execMode: 'fork', instances: 1 }) }, web({ name: 'cron', script: `${R2}/cron.js` })],
      list
    )
    expect(moves).toEqual([
      { kind: 'swap', name: 'web', oldPmIds: [0, 1], changed: [`script ${R1}/server.js → ${R2}/server.js`, `cwd ${R1} → ${R2}`] },
      { kind: 'recreate', name: 'worker', changed: [`script ${R1}/worker.js → ${R2}/worker.js`, `cwd ${R1} → ${R2}`] },
      { kind: 'start', name: 'cron' }
    ])
    expect(planMoves([web({ script: `${R1}/server.js`, cwd: R1 })], list)).toEqual([{ kind: 'in-place', name: 'web' }])
  })

  test('paths through the link are the same strings PM2 keeps: reload in place (new workers resolve the link)', () => {
    const list = [running(0, { script: '/var/www/app/current/server.js', cwd: '/var/www/app/current' })]
    expect(planMoves([web({ script: '/var/www/app/current/server.js', cwd: '/var/www/app/current' })], list)[0]?.kind).toBe('in-place')
  })

  test('an interpreter change alone swaps; stopped or errored processes are not swapped (plan.ts starts them fresh)', () => {
    const list = [running(0, { script: `${R2}/server.js`, cwd: R2, interpreter: '/opt/node18/bin/node' })]
    expect(planMoves([web({ interpreter: 'node' })], list)[0]).toMatchObject({ kind: 'swap', changed: ['interpreter /opt/node18/bin/node → node'] })
    // No interpreter in the file: PM2's own choice (python3 for python, say) is not a change.
    expect(planMoves([web()], list)[0]?.kind).toBe('in-place')
    expect(planMoves([web()], [running(0, { status: 'errored' })])[0]?.kind).toBe('start')
  })
})

describe('the swap commands', () => {
  const list = [running(0), running(1)]
  const move = { kind: 'swap' as const, name: 'web', oldPmIds: [0, 1], changed: ['cwd'] }

  test('start the new set by absolute script path, then delete every old pm_id in one command', () => {
    const { start, old } = planSwap(move, web({ namespace: 'shop' }), list, { flags: ['--merge-logs'], args: ['--port', '3000'] })
    expect(commandArgs(start)).toEqual(['start', `${R2}/server.js`, '--name', 'web', '--cwd', R2, '-i', '2', '--namespace', 'shop', '--merge-logs', '--', '--port', '3000'])
    expect(retireOld(old).map(describeCommand)).toEqual(['pm2 delete 0 1'])
    expect(retireOld([])).toEqual([])
  })

  test('32 old instances of two apps: still one delete command, every id gated', () => {
    const many = Array.from({ length: 32 }, (_, i) => running(i, { name: i < 16 ? 'web' : 'api' }))
    const cmds = retireOld(many.map((p) => ({ pmId: p.pmId, name: p.name })))
    expect(cmds).toHaveLength(1)
    expect(commandArgs(cmds[0]!)).toEqual(['delete', ...many.map((p) => String(p.pmId))])
    expect(() => gateCommand(cmds[0]!, many, new Set(['web', 'api']), '/tmp/x')).not.toThrow()
    // One id that PM2 would read as a name refuses the whole command: nothing is sent.
    const trap = [...many, processRecord({ pmId: 40, name: '17' })]
    expect(() => gateCommand(cmds[0]!, trap, new Set(['web', 'api']), '/tmp/x')).toThrow(/refused to send pm2 delete 0 1 .* 31: PM2 would read 17 as a name-or-script target/)
  })

  test('-f only when a process of the name already runs this very script path', () => {
    expect(planSwap(move, web({ script: `${R1}/server.js` }), list).start.force).toBe(true)
    expect(commandArgs(planSwap(move, web({ script: `${R1}/server.js`, interpreter: '/usr/bin/bun' }), list).start)).toContain('-f')
    expect(planSwap(move, web(), list).start.force).toBe(false)
  })

  test('the start gate: own plain name, absolute script, never a config file', () => {
    const own = new Set(['web'])
    expect(gateScriptStart('web', `${R2}/server.js`, null, list, own)).toEqual({ ok: true, pmIds: [0, 1] })
    expect(gateScriptStart('api', `${R2}/server.js`, null, list, own)).toMatchObject({ ok: false, reason: expect.stringMatching(/not one of this deploy's own names/) })
    expect(gateScriptStart('web', 'server.js', null, list, own)).toMatchObject({ ok: false, reason: expect.stringMatching(/not an absolute path/) })
    expect(gateScriptStart('web', `${R2}/app.json`, null, list, own)).toMatchObject({ ok: false, reason: expect.stringMatching(/config file/) })
    expect(gateScriptStart('web', `${R2}/server.js`, '--all', list, own).ok).toBe(false)
  })

  test('the pm_id gate: refused while the number is any process name or namespace, or not an instance of the app', () => {
    const own = new Set(['web'])
    expect(gatePmId(1, 'web', list, own, '/tmp/x')).toEqual({ ok: true, pmIds: [1] })
    const named = [...list, processRecord({ pmId: 2, name: '1' })]
    expect(gatePmId(1, 'web', named, own, '/tmp/x')).toMatchObject({ ok: false, reason: 'PM2 would read 1 as a name-or-script target' })
    const spaced = [...list, processRecord({ pmId: 2, name: 'billing', namespace: '0' })]
    expect(gatePmId(0, 'web', spaced, own, '/tmp/x')).toMatchObject({ ok: false, reason: 'PM2 would read 0 as a namespace target' })
    expect(gatePmId(2, 'web', spaced, own, '/tmp/x')).toMatchObject({ ok: false, reason: 'pm_id 2 is "billing", not an instance of web' })
    expect(gatePmId(7, 'web', list, own, '/tmp/x')).toMatchObject({ ok: false, reason: 'PM2 would read 7 as no process (it is gone)' })
    expect(gatePmId(0, 'api', list, own, '/tmp/x').ok).toBe(false)
  })

  test('the multi-id gate: every id alone must pass; none, or one twice, is refused', () => {
    const own = new Set(['web'])
    expect(gatePmIds([{ pmId: 0, name: 'web' }, { pmId: 1, name: 'web' }], list, own, '/tmp/x')).toEqual({ ok: true, pmIds: [0, 1] })
    expect(gatePmIds([], list, own, '/tmp/x')).toMatchObject({ ok: false, reason: 'no pm_id to delete' })
    expect(gatePmIds([{ pmId: 0, name: 'web' }, { pmId: 0, name: 'web' }], list, own, '/tmp/x')).toMatchObject({ ok: false, reason: expect.stringMatching(/twice/) })
    const spaced = [...list, processRecord({ pmId: 2, name: 'billing', namespace: '1' })]
    expect(gatePmIds([{ pmId: 0, name: 'web' }, { pmId: 1, name: 'web' }], spaced, own, '/tmp/x')).toMatchObject({ ok: false, reason: 'PM2 would read 1 as a namespace target' })
  })
})

describe('ecosystem options on the command line', () => {
  test('options with a PM2 flag become flags; those without are listed', () => {
    const { flags, unsupported } = ecosystemOptionFlags({
      name: 'web',
      script: 'server.js',
      env: { A: '1' },
      env_production: { A: '2' },
      node_args: ['--max-old-space-size=512', '--enable-source-maps'],
      max_memory_restart: '300M',
      out_file: '/var/log/web.out',
      merge_logs: true,
      combine_logs: true,
      kill_timeout: 5000,
      autorestart: false,
      wait_ready: false,
      min_uptime: 2000,
      instance_var: 'INSTANCE_ID'
    })
    expect(flags).toEqual([
      '--node-args=--max-old-space-size=512 --enable-source-maps',
      '--max-memory-restart=300M',
      '--output=/var/log/web.out',
      '--merge-logs',
      '--kill-timeout=5000',
      '--no-autorestart'
    ])
    expect(unsupported).toEqual(['min_uptime', 'instance_var'])
  })

  test("the start's environment: the file's env and env_<name> over the clean one, never name/namespace/pm_id", () => {
    const env = swapStartEnv({ PATH: '/usr/bin', A: 'clean', name: 'x' }, { A: 'app', B: 2, C: { deep: true }, namespace: 'ns' }, { B: 'prod', pm_id: 9 })
    expect(env).toEqual({ PATH: '/usr/bin', A: 'app', B: 'prod', C: '{"deep":true}' })
  })
})

describe('the plan of a release switch', () => {
  const list = [running(0), running(1), processRecord({ pmId: 2, name: 'worker', execMode: 'fork', script: `${R1}/worker.js`, cwd: R1 }), processRecord({ pmId: 3, name: 'cron', status: 'errored' })]
  const targets = [web(), web({ name: 'worker', script: `${R2}/worker.js`, execMode: 'fork', instances: 1 }), web({ name: 'cron', script: '/var/www/app/current/cron.js', cwd: '/var/www/app/current', execMode: 'fork', instances: 1 })]
  const input = { ownNames: ['web', 'worker', 'cron'], processes: list, strategy: 'reload' as const, ecosystem: `${R2}/ecosystem.config.js`, ecosystemEnv: 'production', save: true }

  test('swapped apps leave the ecosystem command; fork apps with new paths are deleted first; old instances retire last', () => {
    const moves = planMoves(targets, list)
    const web0 = moves.find((m) => m.kind === 'swap')!
    const swaps = new Map([['web', planSwap(web0 as Extract<typeof web0, { kind: 'swap' }>, targets[0]!, list)]])
    const plan = planReleaseDeploy(input, moves, swaps)
    expect(plan.commands.map(describeCommand)).toEqual([
      'pm2 delete cron worker',
      `pm2 startOrReload ${R2}/ecosystem.config.js --only worker,cron --env production --update-env`,
      `pm2 start ${R2}/server.js --name web --cwd ${R2} -i 2`
    ])
    expect(retireOld(plan.retire).map(describeCommand)).toEqual(['pm2 delete 0 1'])
    expect(plan.downtime).toEqual(['worker'])
  })

  test('every own app swapped: no ecosystem command at all; recreate is planDeploy as before', () => {
    const moves = planMoves([web()], [running(0), running(1)])
    const swaps = new Map([['web', planSwap(moves[0] as Extract<(typeof moves)[0], { kind: 'swap' }>, web(), [running(0), running(1)])]])
    const plan = planReleaseDeploy({ ...input, ownNames: ['web'], processes: [running(0), running(1)] }, moves, swaps)
    expect(plan.commands.map((c) => c.verb)).toEqual(['start-script'])
    expect(planReleaseDeploy({ ...input, strategy: 'recreate' }, moves, swaps).commands.map((c) => c.verb)).toEqual(['delete', 'start'])
  })
})

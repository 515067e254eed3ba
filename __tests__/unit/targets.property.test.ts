// Property-based tests of ownership and target resolution: whatever the process list
// and whatever the names, no command the gate lets through reaches a foreign process.
import fc from 'fast-check'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { collisionProblems, deriveOwnNames, nameProblem, OwnershipError } from '../../src/core/ownership.js'
import { planDeploy, PlanError } from '../../src/core/plan.js'
import type { ProcessRecord } from '../../src/shell/pm2/process-list.js'
import { gateCommand, gatePmId, gatePmIds, gateScriptStart, gateTarget, resolvePm2Target, UnsafeCommandError } from '../../src/core/targets.js'
import { planMoves, planSwap, retireOld, type AppTarget } from '../../src/core/swap.js'
import { commandArgs } from '../../src/core/plan.js'
import { processRecord } from '../helpers/process-record.js'

const CWD = '/tmp/pm2-safe-deploy-cwd-XXXX'

/**
 * An independent transcription of pm2 7.0.4 lib/API.js `_operate` + Client.getProcessIdByName
 * / getProcessIdsByNamespace, written with PM2's own loose operators, as the oracle.
 */
function pm2Oracle(processName: string, list: readonly ProcessRecord[], cwd: string): number[] | 'everything' {
  // Common.isConfigFile and the stdin form: PM2 reads a file or stdin, unknowable here.
  if (['.json', '.yml', '.yaml', '.config.js', '.config.cjs', '.config.mjs'].some((e) => processName.indexOf(e) !== -1)) return 'everything'
  if (processName === '-') return 'everything'
  if (processName == 'all') return list.map((p) => p.pmId)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const isNaNLoose = (v: any) => isNaN(v)
  if (isNaNLoose(processName) && processName[0] === '/' && processName[processName.length - 1] === '/') {
    const regex = new RegExp(processName.replace(/\//g, ''))
    return list.filter((p) => regex.test(p.name)).map((p) => p.pmId)
  }
  const byName = list.filter((p) => p.name == processName || p.script == path.resolve(cwd, processName)).map((p) => p.pmId)
  if (byName.length > 0) return byName
  const byNs = list.filter((p) => p.namespace == processName).map((p) => p.pmId)
  if (byNs.length > 0) return byNs
  if (!isNaNLoose(processName)) return list.filter((p) => p.pmId === Number(processName)).map((p) => p.pmId)
  return []
}

const APP = 'flyer-crawler'
const SUFFIX = '-test'
const OWN_BASES = ['flyer-crawler-api', 'flyer-crawler-worker', 'flyer-crawler']

// Names that trip naive cleanups: same suffix, numbers, regex, namespaces, look-alikes.
const trickyName = fc.constantFrom(
  'flyer-crawler-api-test',
  'flyer-crawler-worker-test',
  'flyer-crawler-test',
  'flyer-crawler-api',
  'flyer-crawler-api-test-2',
  'stock-alert-test',
  'stock-alert-api',
  'legacy-api',
  'default',
  'all',
  '0',
  '1',
  '2',
  '/api/',
  'api.json',
  ' 1',
  '1e0',
  '0x1'
)
const anyName = fc.oneof(trickyName, fc.string({ minLength: 0, maxLength: 8 }))
const namespace = fc.oneof(fc.constantFrom('default', 'flyer-crawler-api-test', 'flyer-crawler-test', '1', 'stock'), fc.string({ maxLength: 6 }))
const status = fc.constantFrom('online', 'stopped', 'errored', 'launching', 'waiting restart')

const processList = fc
  .array(fc.record({ name: anyName, namespace, status, scriptInCwd: fc.boolean(), scriptName: anyName }), { maxLength: 12 })
  .map((rows) =>
    rows.map(
      (r, i): ProcessRecord =>
        processRecord({
          pmId: i,
          name: r.name,
          namespace: r.namespace,
          status: r.status,
          // Some scripts sit where path.resolve(<any name>) from the CLI cwd would point.
          script: r.scriptInCwd ? path.resolve(CWD, r.scriptName) : `/srv/${i}/app.js`,
          cwd: '/srv'
        })
    )
  )

const whitelist = fc.subarray([...OWN_BASES, 'all', '/api/', 'default', '1', 'flyer-crawler api', 'flyer-crawler.json', 'x'], { minLength: 1 })

describe('the target gate', () => {
  test('never lets a target through that PM2 would resolve to a foreign process', () => {
    fc.assert(
      fc.property(processList, fc.subarray(OWN_BASES.map((b) => b + SUFFIX), { minLength: 1 }), anyName, (list, own, extra) => {
        const ownSet = new Set(own)
        for (const arg of [...own, extra]) {
          const verdict = gateTarget(arg, list, ownSet, CWD)
          if (!verdict.ok) continue
          const reached = pm2Oracle(arg, list, CWD)
          expect(reached).not.toBe('everything')
          for (const id of reached as number[]) expect(ownSet.has(list[id]!.name)).toBe(true)
          expect(reached).toEqual(verdict.pmIds)
        }
      }),
      { numRuns: 3000 }
    )
  })

  test('our resolver agrees with the PM2 transcription on every argument', () => {
    fc.assert(
      fc.property(processList, anyName, (list, arg) => {
        const ours = resolvePm2Target(arg, list, CWD)
        const oracle = pm2Oracle(arg, list, CWD)
        if (oracle === 'everything') expect(['config-file', 'stdin']).toContain(ours.kind)
        else {
          let regexOk = true
          try {
            new RegExp(arg.replace(/\//g, ''))
          } catch {
            regexOk = false
          }
          if (regexOk) expect(ours.pmIds).toEqual(oracle)
        }
      }),
      { numRuns: 3000 }
    )
  })
})

describe('ownership and the plan', () => {
  test('own names always start with the app, end with the suffix, and are never a PM2 keyword, number, regex or path', () => {
    fc.assert(
      fc.property(whitelist, fc.constantFrom('', '-test', '-staging'), (entries, suffix) => {
        let names: string[]
        try {
          names = deriveOwnNames({ app: APP, suffix, whitelist: entries })
        } catch (err) {
          expect(err).toBeInstanceOf(OwnershipError)
          expect((err as Error).message.length).toBeGreaterThan(20)
          return
        }
        for (const n of names) {
          expect(n.startsWith(APP) && n.endsWith(suffix)).toBe(true)
          expect(nameProblem(n, APP, suffix)).toBeNull()
          expect(n).not.toBe('all')
          expect(Number.isNaN(Number(n))).toBe(true)
          expect(n).not.toMatch(/[\s/]/)
        }
      }),
      { numRuns: 2000 }
    )
  })

  test('a plan built from accepted own names reaches own processes only, whatever else runs', () => {
    fc.assert(
      fc.property(
        processList,
        whitelist,
        fc.constantFrom('reload', 'restart', 'recreate') as fc.Arbitrary<'reload' | 'restart' | 'recreate'>,
        fc.boolean(),
        (list, entries, strategy, withEcosystem) => {
          let own: string[]
          try {
            own = deriveOwnNames({ app: APP, suffix: SUFFIX, whitelist: entries })
          } catch {
            return
          }
          if (collisionProblems(own, list).length > 0) return
          const ownSet = new Set(own)
          let plan
          try {
            plan = planDeploy({ ownNames: own, processes: list, strategy, ecosystem: withEcosystem ? '/srv/eco.config.js' : null, ecosystemEnv: null, save: true })
          } catch (err) {
            expect(err).toBeInstanceOf(PlanError)
            return
          }
          for (const cmd of plan) {
            if (!('targets' in cmd)) {
              if ('only' in cmd) for (const n of cmd.only) expect(ownSet.has(n)).toBe(true)
              continue
            }
            for (const t of cmd.targets) {
              const verdict = gateTarget(t, list, ownSet, CWD)
              if (!verdict.ok) continue // refused: never sent
              const reached = pm2Oracle(t, list, CWD) as number[]
              for (const id of reached) expect(ownSet.has(list[id]!.name)).toBe(true)
            }
          }
        }
      ),
      { numRuns: 2000 }
    )
  })
})

describe('the swap of a release switch (promise 9)', () => {
  const OWN = 'flyer-crawler-api-test'
  const want: AppTarget = { name: OWN, script: '/var/www/app/releases/r2/server.js', cwd: '/var/www/app/releases/r2', interpreter: 'node', execMode: 'cluster', instances: 2, namespace: null }
  // Foreign processes whose names and namespaces are numbers that are also pm_ids.
  const foreignName = fc.oneof(anyName, fc.nat(16).map(String))
  const foreignNs = fc.oneof(namespace, fc.nat(16).map(String))
  const rows = fc.array(
    fc.oneof(
      fc.record({ own: fc.constant(true as const), name: fc.constant(OWN), namespace: fc.constantFrom('default', 'web', '3'), status: fc.constantFrom('online', 'online', 'stopped') }),
      fc.record({ own: fc.constant(false as const), name: foreignName, namespace: foreignNs, status })
    ),
    { maxLength: 14 }
  )
  let sentDeletes = 0

  /** What `pm2 delete <a> <b> …` reaches: CLI.js runs each target in turn (forEachLimit 1), each against the list the earlier ones left; the first that reaches nothing stops it. */
  const pm2DeleteOracle = (args: readonly string[], list: readonly ProcessRecord[]): number[] => {
    let left = [...list]
    const reached: number[] = []
    for (const arg of args) {
      const ids = pm2Oracle(arg, left, CWD) as number[]
      if (ids.length === 0) break
      reached.push(...ids)
      left = left.filter((p) => !ids.includes(p.pmId))
    }
    return reached
  }
  const listOf = (rs: Array<{ own: boolean; name: string; namespace: string; status: ProcessRecord['status'] }>) =>
    rs.map((r, i) =>
      processRecord({ pmId: i, name: r.name, namespace: r.namespace, status: r.status, execMode: 'cluster', script: r.own ? '/var/www/app/releases/r1/server.js' : `/srv/${i}/app.js`, cwd: r.own ? '/var/www/app/releases/r1' : '/srv' })
    )

  test("the swap's one multi-id delete never reaches a foreign process, whatever the names and namespaces", () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const list = listOf(rs)
        const ownSet = new Set([OWN])
        for (const move of planMoves([want], list)) {
          if (move.kind !== 'swap') continue
          const { start, old } = planSwap(move, want, list)
          expect(gateScriptStart(start.name, start.script, start.namespace, list, ownSet).ok).toBe(true)
          const [cmd] = retireOld(old)
          const args = commandArgs(cmd!).slice(1)
          const verdict = gatePmIds(cmd!.instances, list, ownSet, CWD)
          if (!verdict.ok) {
            // Refused as a whole (never sent) when any one id is: PM2 would read it as a name or namespace first.
            expect(old.some((o) => !gatePmId(o.pmId, o.name, list, ownSet, CWD).ok)).toBe(true)
            expect(() => gateCommand(cmd!, list, ownSet, CWD)).toThrow(UnsafeCommandError)
            continue
          }
          sentDeletes++
          const reached = pm2DeleteOracle(args, list)
          expect(reached).toEqual(old.map((o) => o.pmId))
          for (const id of reached) expect(list[id]!.name).toBe(OWN)
        }
      }),
      { numRuns: 3000 }
    )
    expect(sentDeletes).toBeGreaterThan(100)
  })

  test('any set of pm_ids the multi-id gate passes, in any order, reaches own processes only and exactly those ids', () => {
    // Ids drawn from the list's own range (and one past it), so the gate passes often enough to say something.
    const seeds = fc.array(fc.nat(), { minLength: 1, maxLength: 8 })
    let passed = 0
    fc.assert(
      fc.property(rows, seeds, (rs, draws) => {
        const list = listOf(rs)
        const picked = [...new Set(draws.map((d) => d % (list.length + 1)))]
        const instances = picked.map((pmId) => ({ pmId, name: OWN }))
        if (!gatePmIds(instances, list, new Set([OWN]), CWD).ok) return
        passed++
        const reached = pm2DeleteOracle(picked.map(String), list)
        expect(reached).toEqual(picked)
        for (const id of reached) expect(list[id]!.name).toBe(OWN)
      }),
      { numRuns: 3000 }
    )
    expect(passed).toBeGreaterThan(50)
  })
})

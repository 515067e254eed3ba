// Plan and preflight (promises 1, 5, 9): the commands decided from data, each gated, every app checked.
import * as core from '@actions/core'
import { DeployStop } from '../core/outcome.js'
import { collisionProblems, OwnershipError } from '../core/ownership.js'
import { describeCommand, planReleaseDeploy, type ReleasePlan } from '../core/plan.js'
import type { ProcessRecord } from '../core/process-record.js'
import { planMoves, planSwap } from '../core/swap.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { preflightApps } from '../shell/preflight.js'
import { appTargets } from './app-targets.js'
import { checkIdentity } from './identity.js'
import type { Pm2Port } from './ports.js'
import { afterSwitch, releaseRecord } from './release.js'
import type { DeployContext, Source } from './context.js'

/** Plan and preflight (promises 1, 5 and 9): every command gated, every app checked, nothing sent. */
export async function planAndPreflight(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  const apps = await ctx.ownership.ecosystemApps()
  const collisions = collisionProblems(state.ownNames, state.before)
  if (collisions.length > 0) throw new OwnershipError(collisions.join('\n'))
  checkIdentity(ctx, apps)
  const planned = planCommands(ctx, apps, { ecosystem: inputs.ecosystem, workingDirectory: inputs.workingDirectory }, state.before)
  state.plan = planned.commands
  state.retire = planned.retire
  state.release = releaseRecord(inputs, planned, state.before.filter((p) => state.own.has(p.name)))
  for (const name of planned.downtime) {
    state.warnings.push(`${name} runs in fork mode and its script, cwd or interpreter changes: it is deleted and started fresh, with a moment of downtime (cluster mode switches with none)`)
  }
  for (const cmd of [...state.plan, ...state.retire]) {
    pm2.check(cmd, state.before, state.own)
    core.info(`${describeCommand(cmd)}    # ${cmd.why}`)
  }
  state.checks.push({ name: 'targets', ok: true, detail: 'every planned command reaches own processes only' })
  if (!inputs.ecosystem) return
  const problems = preflightApps(state.ownNames, apps, inputs.workingDirectory, { searchPath: pm2.searchPath, ecosystemEnv: inputs.ecosystemEnv, mapPath: afterSwitch(inputs) })
  if (problems.length > 0) {
    state.checks.push({ name: 'preflight', ok: false, detail: problems.map((p) => `${p.app} ${p.problem}`).join('; ') })
    throw new DeployStop('aborted', `Preflight failed, nothing was changed:\n${problems.map((p) => `- ${p.app} ${p.problem}`).join('\n')}`, 'Preflight failed')
  }
  state.checks.push({ name: 'preflight', ok: true, detail: 'scripts and cwd exist, interpreters fit' })
}

/**
 * The commands for the own apps of `source` on `processes` (promise 9): with an ecosystem
 * file and reload/restart, a cluster app whose script, cwd or interpreter changes is
 * swapped and a fork app recreated; the rest moves in place.
 */
export function planCommands(ctx: DeployContext, apps: readonly EcosystemApp[], source: Source, processes: readonly ProcessRecord[], names = ctx.state.ownNames): ReleasePlan {
  const { inputs, state } = ctx
  const input = { ownNames: names, processes, strategy: inputs.strategy, ecosystem: source.ecosystem, ecosystemEnv: inputs.ecosystemEnv, save: inputs.save }
  if (!source.ecosystem || inputs.strategy === 'recreate') return planReleaseDeploy(input, [], new Map())
  const targets = appTargets(names, apps, source.workingDirectory, processes)
  const moves = planMoves(targets, processes)
  const swaps = new Map<string, ReturnType<typeof planSwap>>()
  for (const move of moves) {
    const target = targets.find((t) => t.name === move.name)
    const app = apps.find((a) => a.name === move.name)
    if (move.kind !== 'swap' || !target || !app) continue
    if (app.swap?.unsupported.length) {
      state.warnings.push(`${move.name}: ${app.swap.unsupported.join(', ')} cannot be given to the new instances of a swap (no pm2 start flag carries them): they apply again at the next reload`)
    }
    swaps.set(move.name, planSwap(move, target, processes, { flags: app.swap?.flags ?? [], args: app.swap?.args ?? [], envFrom: { ecosystem: source.ecosystem, envName: inputs.ecosystemEnv } }))
  }
  return planReleaseDeploy(input, moves, swaps)
}

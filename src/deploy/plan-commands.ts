// The commands for one source of own apps (promise 9), shared by the plan and a rollback's
// redeploy of the previous release: its own module, so plan.ts and release.ts need not import each other.
import { planReleaseDeploy, type ReleasePlan } from '../core/plan.js'
import type { ProcessRecord } from '../core/process-record.js'
import { planMoves, planSwap } from '../core/swap.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { appTargets } from './app-targets.js'
import type { DeployContext, Source } from './context.js'

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

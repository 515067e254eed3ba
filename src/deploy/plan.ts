// Plan and preflight (promises 1, 5, 9): the commands decided from data, each gated, every app checked.
import { DeployStop } from '../core/outcome.js'
import { collisionProblems, OwnershipError } from '../core/ownership.js'
import { describeCommand } from '../core/plan.js'
import { retireOld } from '../core/swap.js'
import { preflightApps } from '../shell/preflight.js'
import { checkIdentity } from './identity.js'
import type { Pm2Port } from './ports.js'
import { afterSwitch, releaseRecord } from './release.js'
import type { DeployContext } from './context.js'
import { planCommands } from './plan-commands.js'
import { releaseKindOf } from './records.js'
import { printLine } from '../shell/print.js'

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
  state.release = releaseRecord(inputs, planned, state.before.filter((p) => state.own.has(p.name)), releaseKindOf(state))
  for (const name of planned.downtime) {
    state.warnings.push(`${name} runs in fork mode and its script, cwd or interpreter changes: it is deleted and started fresh, with a moment of downtime (cluster mode switches with none)`)
  }
  for (const cmd of [...state.plan, ...retireOld(state.retire)]) {
    pm2.check(cmd, state.before, state.own)
    printLine(`${describeCommand(cmd)}    # ${cmd.why}`)
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

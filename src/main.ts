// The guarded deploy, as a list of named phases over one DeployState (src/deploy/): the
// pure core (src/core/) decides, the shell (src/shell/) does the I/O. No side effects at import.
import { outcomeOf } from './core/outcome.js'
import type { DeployResult } from './core/report-schema.js'
import { handleCancel } from './deploy/cancel.js'
import { noteDaemonGone } from './deploy/daemon-gone.js'
import { finish } from './deploy/finish.js'
import { isolationAtEnd, save, sendPlan, swapInstances } from './deploy/change.js'
import type { DeployContext } from './deploy/context.js'
import { planAndPreflight } from './deploy/plan.js'
import { connect, recordBefore, start, takeHostLock } from './deploy/setup.js'
import { verifyOwn } from './deploy/verify.js'
import { SHELL, type DeployPorts, type Pm2Port } from './deploy/ports.js'
import { noRollbackReason, pruneReleases, rollBack, rollbackApplies, rollbackToNote, switchRelease, unswitch } from './deploy/release.js'
import { DeployState } from './deploy/state.js'
import { hasPrepareStage, migrateRelease, prepareRelease } from './deploy/prepare.js'

export async function run(ports: DeployPorts = SHELL): Promise<DeployResult> {
  const state = new DeployState(process.env)
  const cancel = handleCancel(state)
  try {
    await deploy(state, ports)
  } catch (err) {
    state.outcome = outcomeOf(err, state.changed)
    await noteDaemonGone(state)
  } finally {
    // Removed last: a cancel while the after snapshot is taken still releases the lock.
    await finish(state).finally(() => cancel.dispose())
  }
  return state.outcome.result
}

async function deploy(state: DeployState, ports: DeployPorts): Promise<void> {
  const ctx = await state.phase('Inputs and ownership', () => start(state, ports))
  const pm2 = await state.phase('Workflow metadata', () => connect(ctx))
  if (hasPrepareStage(ctx)) await state.phase('Prepare release', () => prepareRelease(ctx, pm2))
  await state.phase('Host lock', () => takeHostLock(ctx))
  await state.phase('PM2 state before', () => recordBefore(ctx, pm2))
  await state.phase('Plan and preflight', () => planAndPreflight(ctx, pm2))
  if (ctx.inputs.dryRun) return state.conclude('dry-run', `dry run: ${state.plan.length + (state.retire.length > 0 ? 1 : 0)} command(s) planned and checked, nothing sent`)
  if (ctx.inputs.migrate !== null) await state.phase('Migrate', () => migrateRelease(ctx))
  await changeAndVerify(ctx, pm2).catch((err: unknown) => recover(ctx, pm2, err))
  await state.phase('Isolation check', () => isolationAtEnd(ctx, pm2))
  if (ctx.inputs.save) await state.phase('Save', () => save(ctx, pm2))
  const release = state.release
  if (release && ctx.inputs.keepReleases > 0) await state.phase('Keep releases', () => pruneReleases(ctx, pm2, release))
  state.conclude('deployed', `${rollbackToNote(state)}${state.ownNames.length} own process name(s) deployed and stable; other apps unchanged`)
}

/** The part a rollback can undo: the link switched, the commands sent, a swap's old instances retired, all verified. */
async function changeAndVerify(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state } = ctx
  const release = state.release
  if (release) await state.phase('Release switch', () => switchRelease(state, release))
  await state.phase('Deploy', () => sendPlan(ctx, pm2))
  if (state.retire.length > 0) await state.phase('Swap', () => swapInstances(ctx, pm2))
  await state.phase('Verify own processes', () => verifyOwn(ctx, pm2))
}

/** After the switch: the link put back when nothing changed; the previous release redeployed when own processes failed. */
async function recover(ctx: DeployContext, pm2: Pm2Port, err: unknown): Promise<never> {
  const release = ctx.state.release
  if (release && !ctx.state.changed) unswitch(release)
  else if (release && rollbackApplies(ctx, err)) await ctx.state.phase('Rollback', () => rollBack(ctx, pm2, release, err))
  const why = noRollbackReason(ctx, err)
  if (why) ctx.state.warnings.push(why)
  throw err
}

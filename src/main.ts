// The guarded deploy, as a list of named phases over one DeployState (src/deploy/): the
// pure core (src/core/) decides, the shell (src/shell/) does the I/O. No side effects at import.
import { outcomeOf } from './core/outcome.js'
import type { DeployResult } from './core/report-schema.js'
import { handleCancel } from './deploy/cancel.js'
import { noteDaemonGone } from './deploy/daemon-gone.js'
import { finish } from './deploy/finish.js'
import { connect, isolationAtEnd, planAndPreflight, recordBefore, save, sendPlan, start, takeHostLock, verifyOwn } from './deploy/phases.js'
import { SHELL, type DeployPorts } from './deploy/ports.js'
import { DeployState } from './deploy/state.js'

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
  await state.phase('Host lock', () => takeHostLock(ctx))
  await state.phase('PM2 state before', () => recordBefore(ctx, pm2))
  await state.phase('Plan and preflight', () => planAndPreflight(ctx, pm2))
  if (ctx.inputs.dryRun) return state.conclude('dry-run', `dry run: ${state.plan.length} command(s) planned and checked, nothing sent`)
  await state.phase('Deploy', () => sendPlan(ctx, pm2))
  await state.phase('Verify own processes', () => verifyOwn(ctx, pm2))
  await state.phase('Isolation check', () => isolationAtEnd(ctx, pm2))
  if (ctx.inputs.save) await state.phase('Save', () => save(ctx, pm2))
  state.conclude('deployed', `${state.ownNames.length} own process name(s) deployed and stable; other apps unchanged`)
}

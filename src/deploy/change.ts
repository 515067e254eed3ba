// The phases that change PM2 (promises 1, 3, 9): commands sent through the gate, isolation
// after every delete and at the end, a swap's old instances retired in one call, pm2 save.
import * as core from '@actions/core'
import { messageOf } from '../core/errors.js'
import { checkIsolation, formatViolations } from '../core/isolation.js'
import { DeployStop } from '../core/outcome.js'
import { describeCommand, type PlannedCommand } from '../core/plan.js'
import type { ProcessRecord } from '../core/process-record.js'
import { UnsafeCommandError } from '../core/targets.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { printUntrusted } from '../shell/print.js'
import { saveCommandsStarted } from '../shell/state.js'
import type { Pm2Port } from './ports.js'
import { deleteByIds, retireOld, type DeleteByIds } from '../core/swap.js'
import type { DeployContext } from './context.js'
import type { DeployState } from './state.js'
import { expectedCounts, watchOwn } from './verify.js'

/** Isolation (promise 3): every other process as it was before; a change is a SAFETY ABORT. */
export async function isolation(ctx: DeployContext, pm2: Pm2Port, label: string): Promise<readonly ProcessRecord[]> {
  const { state, inputs } = ctx
  const now = await pm2.freshList()
  // Another app stopping: the action never stops one, a daemon shutting down does (deploy/daemon-gone.ts).
  state.sawStopping ||= now.some((p) => !state.own.has(p.name) && p.status === 'stopping')
  const r = checkIsolation(state.before, now, state.own, inputs.foreignRestarts)
  for (const w of r.warnings) state.warnings.push(`${w.name}: ${w.detail}`)
  const detail = r.violations.length ? formatViolations(r.violations) : 'other apps unchanged'
  state.checks.push({ name: `isolation ${label}`, ok: r.violations.length === 0, detail })
  if (r.violations.length > 0) {
    state.violations.push(...r.violations)
    throw new DeployStop('failed', `SAFETY ABORT: other apps changed ${label}: ${detail}`, 'SAFETY ABORT')
  }
  core.info(`isolation ${label}: other apps unchanged`)
  return now
}

/** Sends `commands` in order, each gated on a fresh list; a non-zero exit stops; isolation after every delete. */
export async function sendAll(ctx: DeployContext, pm2: Pm2Port, commands: readonly PlannedCommand[]): Promise<void> {
  for (const cmd of commands) {
    // For the post step, should this step be killed while the command runs.
    saveCommandsStarted([...ctx.state.sent.map((c) => c.command), describeCommand(cmd)])
    const sent = await pm2.send(cmd, ctx.state.own)
    core.info(`${sent.command} → exit ${sent.exitCode} (${sent.ms} ms)`)
    printUntrusted(sent.messages, '  ')
    if (sent.exitCode !== 0) {
      throw new DeployStop('failed', `${sent.command} failed with exit code ${sent.exitCode}: ${sent.messages.slice(-3).join(' ')}`, 'pm2 command failed')
    }
    if (cmd.verb === 'delete' || cmd.verb === 'delete-ids') await isolation(ctx, pm2, 'after cleanup')
  }
}

/** Deploy: the plan's commands in order; a refusal before the first one changes nothing. */
export async function sendPlan(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state } = ctx
  try {
    await sendAll(ctx, pm2, state.plan)
  } catch (err) {
    if (err instanceof DeployStop) throw err
    if (!state.changed) throw err instanceof UnsafeCommandError ? new DeployStop('aborted', err.message, 'Unsafe command refused') : err
    throw new DeployStop('failed', messageOf(err), 'Deploy failed')
  }
}

/**
 * Swap (promise 9): the new instances of each swapped app verified online and stable
 * beside the old ones (health URLs wait: either set may answer), then every old instance
 * deleted by pm_id in one gated `pm2 delete <id> <id> …`.
 */
export async function completeSwaps(ctx: DeployContext, pm2: Pm2Port, apps: readonly EcosystemApp[]): Promise<void> {
  const { state, inputs } = ctx
  const names = [...new Set(state.retire.map((d) => d.name))]
  const verdict = await watchOwn(ctx, pm2, names, expectedCounts(ctx, apps), { stableSeconds: inputs.stableSeconds, healthUrls: [] })
  state.checks.push({ name: 'new instances healthy', ok: verdict.ok, detail: verdict.reason })
  core.info(verdict.reason)
  if (!verdict.ok) {
    // The old instances still serve: the failed new set goes, so a bad release never stays beside them.
    await sendAll(ctx, pm2, newInstancesOfSwaps(state, await pm2.list()))
    throw new DeployStop('failed', `The new instances are not healthy: ${verdict.reason}. They were removed; the old instances still serve.`, 'Deploy not healthy')
  }
  await sendAll(ctx, pm2, retireOld(state.retire))
  state.retired = true
}

/** Swap phase: completeSwaps over the apps of the file being deployed. */
export async function swapInstances(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  await completeSwaps(ctx, pm2, await ctx.ownership.ecosystemApps())
}

/** Isolation check at the end; nothing changes PM2 after it (save writes a file), so its list is the after snapshot too. */
export async function isolationAtEnd(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  ctx.state.endList = await isolation(ctx, pm2, 'at the end')
}

/** Save: `pm2 save` only after a verified deploy, so the dump keeps the last good state. */
export async function save(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const sent = await pm2.send({ verb: 'save', why: 'deploy verified' }, ctx.state.own)
  core.info(`${sent.command} → exit ${sent.exitCode}`)
  if (sent.exitCode !== 0) ctx.state.warnings.push(`pm2 save exited ${sent.exitCode}: the deploy is live but the saved list is old`)
}

/** The new instances of swaps whose old instances still serve: deleted by pm_id, in one command, to undo the swap. */
export function newInstancesOfSwaps(state: DeployState, list: Awaited<ReturnType<Pm2Port['list']>>): DeleteByIds[] {
  if (state.retired) return []
  const old = new Set(state.retire.map((d) => d.pmId))
  const names = new Set(state.retire.map((d) => d.name))
  const fresh = list.filter((p) => names.has(p.name) && !old.has(p.pmId)).map((p) => ({ pmId: p.pmId, name: p.name }))
  return deleteByIds(fresh, 'the new instances of a swap that did not serve')
}

// The release switch (promise 10): the link switched right before the first command, put
// back and the previous release redeployed when the new one is not healthy, old releases
// pruned after a verified deploy. The rules are in core/release.ts; the link in shell/release.ts.
import path from 'node:path'
import { messageOf } from '../core/errors.js'
import { DeployStop } from '../core/outcome.js'
import type { ReleasePlan } from '../core/plan.js'
import type { ProcessRecord } from '../core/process-record.js'
import { intoRelease, planPrune, staleProcesses, throughLinkAfterSwitch } from '../core/release.js'
import type { ReleaseRecord } from '../core/report-schema.js'
import type { Inputs } from '../shell/inputs.js'
import { processCwd, realOrSelf, runningFacts } from '../shell/proc.js'
import { existingReleases, liveRelease, removeRelease, restoreLink, switchLink } from '../shell/release.js'
import { knownReleases } from '../core/release-history.js'
import { releaseEvents } from '../shell/audit.js'
import { sharedDirOf } from './prepare.js'
import { saveReleaseSwitch } from '../shell/state.js'
import { wantedPaths } from './app-targets.js'
import { completeSwaps, isolation, newInstancesOfSwaps, sendAll } from './change.js'
import type { DeployContext } from './context.js'
import { planCommands } from './plan-commands.js'
import { expectedCounts, watchOwn } from './verify.js'
import type { Pm2Port } from './ports.js'
import type { DeployState } from './state.js'
import { printLine } from '../shell/print.js'

/** The release record of this deploy, before anything is switched; null without `current-link`. */
export function releaseRecord(inputs: Inputs, planned: ReleasePlan, own: readonly ProcessRecord[], kind: ReleaseRecord['kind'] = 'deploy'): ReleaseRecord | null {
  const r = inputs.release
  if (!r) return null
  const swapped = [...new Set(planned.retire.map((d) => d.name))]
  // A redeploy whose own processes still run another release: a switch cut short (a killed deploy); that release is the one to go back to.
  const previous = r.redeploy ? (runningRelease(own, r.releaseDir) ?? r.live) : r.live
  return { link: r.currentLink, target: r.releaseDir, previous, switched: false, rolledBack: false, live: r.live, kind, downtime: planned.downtime, swapped, pruned: [] }
}

/** The one sibling release directory own processes really run from, other than `releaseDir`; null when none or several. */
function runningRelease(own: readonly ProcessRecord[], releaseDir: string): string | null {
  const parent = path.dirname(releaseDir)
  const dirs = new Set<string>()
  for (const p of own) {
    const cwd = processCwd(p.pid) ?? (p.cwd ? realOrSelf(p.cwd) : null)
    const top = cwd ? path.relative(parent, cwd).split(path.sep)[0] : undefined
    if (top && top !== '..' && !path.isAbsolute(top)) dirs.add(path.join(parent, top))
  }
  dirs.delete(releaseDir)
  return dirs.size === 1 ? [...dirs][0]! : null
}

/** A rollback on demand (promise 16) says so first in its message, from which release to which. */
export function rollbackToNote(state: DeployState): string {
  const r = state.release
  return r?.kind === 'rollback-to' ? `Rollback on demand: ${r.previous ?? 'no release'} → ${r.target} (rollback-to: ${state.inputs?.rollbackTo ?? ''}).\n` : ''
}

/** For preflight: a path as it will lead once the link names the new release (unchanged without a switch). */
export function afterSwitch(inputs: Inputs): ((p: string) => string) | undefined {
  const r = inputs.release
  if (!r || r.redeploy) return undefined
  const realLink = path.join(realOrSelf(path.dirname(r.currentLink)), path.basename(r.currentLink))
  return (p) => throughLinkAfterSwitch(p, r.currentLink, r.releaseDir, realLink)
}

/** Release switch: the link renamed over to the new release, right before the first command. */
export async function switchRelease(state: DeployState, release: ReleaseRecord): Promise<void> {
  if (release.previous === release.target) {
    printLine(`${release.link} already names ${release.target}: a redeploy, no switch (and nothing to roll back to)`)
    return
  }
  if (release.live === release.target) printLine(`${release.link} already names ${release.target}, but own processes run ${release.previous}: a switch cut short; ${release.previous} is the release to roll back to`)
  state.switchedAt = Date.now()
  saveReleaseSwitch({ link: release.link, previous: release.previous, target: release.target })
  switchLink(release.link, release.target)
  release.switched = true
  release.live = liveRelease(release.link)
  printLine(`${release.link} → ${release.target} (was ${release.previous ?? 'no link: a first deploy'})`)
}

/** The link back where it was, when a deploy stopped before changing anything (a refused first command). */
export function unswitch(release: ReleaseRecord): void {
  if (!release.switched) return
  restoreLink(release.link, release.previous)
  release.switched = false
  release.live = liveRelease(release.link)
  printLine(`${release.link} put back to ${release.previous ?? 'nothing'}: nothing was changed`)
}

/** Whether a failure is one a rollback answers: own processes failed after the switch, never a SAFETY ABORT. */
export function rollbackApplies(ctx: DeployContext, err: unknown): err is DeployStop {
  const { state, inputs } = ctx
  return (
    err instanceof DeployStop &&
    err.result === 'failed' &&
    state.violations.length === 0 &&
    inputs.rollback &&
    state.release?.switched === true &&
    state.release.previous !== null
  )
}

/** Why a failed deploy after a switch was not rolled back, for the summary; null when it was, or nothing was switched. */
export function noRollbackReason(ctx: DeployContext, err: unknown): string | null {
  const release = ctx.state.release
  if (!release?.switched || !(err instanceof DeployStop) || err.result !== 'failed') return null
  if (ctx.state.violations.length > 0) return `no rollback: other apps changed (SAFETY ABORT), so nothing more is sent; ${release.link} still names ${release.target}`
  if (!ctx.inputs.rollback) return `no rollback (\`rollback: false\`): ${release.link} still names ${release.target}`
  if (release.previous === null) return `no rollback: this was the first release behind ${release.link}, there is none to go back to`
  return null
}

/**
 * Rollback: the link back to the previous release, a swap's new instances removed (its
 * old ones never stopped), every other own app deployed from the previous release's file
 * the same way, verified. Ends `rolled-back`, or `failed` saying what runs now.
 */
export async function rollBack(ctx: DeployContext, pm2: Pm2Port, release: ReleaseRecord, cause: DeployStop): Promise<never> {
  const { state } = ctx
  const forwardSwitch = state.switchedAt ?? 0
  try {
    restoreLink(release.link, release.previous)
    release.rolledBack = true
    release.live = liveRelease(release.link)
    state.switchedAt = Date.now()
    printLine(`${release.link} → ${release.previous} again`)
    await redeployPrevious(ctx, pm2, release, forwardSwitch)
    await isolation(ctx, pm2, 'after the rollback')
  } catch (err) {
    if (err instanceof DeployStop && err.message.startsWith('SAFETY ABORT')) throw err
    const running = (await pm2.list().catch(() => [])).filter((p) => state.own.has(p.name))
    const where = running.map((p) => `${p.name} (pm_id ${p.pmId}) ${p.status} in ${processCwd(p.pid) ?? p.cwd ?? '?'}`).join('; ') || 'no own process'
    throw new DeployStop(
      'failed',
      `${cause.message}\nThe rollback failed too: ${messageOf(err)}\nNow ${release.link} names ${liveRelease(release.link) ?? 'nothing'}; own processes: ${where}.`,
      'Rollback failed'
    )
  }
  throw new DeployStop('rolled-back', `${cause.message}\nRolled back: ${release.link} names ${release.previous} again, and the previous release was verified serving.`, `Rolled back: ${cause.title}`)
}

async function redeployPrevious(ctx: DeployContext, pm2: Pm2Port, release: ReleaseRecord, forwardSwitch: number): Promise<void> {
  const { state, inputs } = ctx
  const previous = release.previous ?? release.target
  await sendAll(ctx, pm2, newInstancesOfSwaps(state, await pm2.list()))
  const untouched = new Set(state.retired ? [] : state.retire.map((d) => d.name))
  const source = {
    ecosystem: inputs.ecosystem && intoRelease(inputs.ecosystem, release.target, previous),
    workingDirectory: intoRelease(inputs.workingDirectory, release.target, previous)
  }
  const apps = source.ecosystem ? await ctx.ports.readEcosystem(source.ecosystem, ctx.cleanEnv, source.workingDirectory) : []
  const names = state.ownNames.filter((n) => !untouched.has(n) && (!source.ecosystem || apps.some((a) => a.name === n)))
  const planned = planCommands(ctx, apps, source, await pm2.list(), names)
  state.retire = planned.retire
  state.retired = false
  await sendAll(ctx, pm2, planned.commands)
  if (planned.retire.length > 0) await completeSwaps(ctx, pm2, apps)
  const verdict = await watchOwn(ctx, pm2, state.ownNames, expectedCounts(ctx, apps), { stableSeconds: inputs.stableSeconds, healthUrls: inputs.healthUrls })
  state.checks.push({ name: 'previous release healthy', ok: verdict.ok, detail: verdict.reason })
  if (!verdict.ok) throw new Error(`the previous release is not healthy either: ${verdict.reason}`)
  // Processes spawned before the forward switch never saw the new release; any other must run the previous one.
  const facts = runningFacts(verdict.processes).filter((f) => f.startedAt === null || f.startedAt >= forwardSwitch)
  const stale = source.ecosystem ? staleProcesses(facts, wantedPaths(names, apps, source.workingDirectory), { switchedAt: state.switchedAt, releaseDir: previous }) : []
  if (stale.length > 0) throw new Error(`own processes still run the failed release: ${stale.map((s) => s.message).join('; ')}`)
  printLine(`previous release verified: ${verdict.reason}`)
}

/** Keep releases: of the releases this app's deploys recorded, the `keep-releases` newest stay, and every one in use, live or previous; each decision reported. */
export async function pruneReleases(ctx: DeployContext, pm2: Pm2Port, release: ReleaseRecord): Promise<void> {
  const { inputs } = ctx
  // A rollback on demand keeps history: the releases `previous` walks back to must still be there.
  if (inputs.rollbackTo) return void printLine('keep-releases: nothing removed on a rollback on demand (the releases you may walk back to stay)')
  if (!inputs.auditLog) return void printLine('keep-releases: the audit log is off, so no release is known to be this app\'s: nothing removed')
  const inUse = runningFacts(await pm2.list()).flatMap((f) =>
    [f.procCwd ?? f.realPmCwd, f.realScript].flatMap((p) => (p === null ? [] : [{ name: f.name, pmId: f.pmId, path: p }]))
  )
  // Only what this app's runs made live (a target), newest first: never a directory that was merely live before its first deploy.
  const events = releaseEvents(inputs.auditLog, inputs.app, inputs.suffix)
  const targets = new Set(events.map((e) => e.target))
  // This run's line is not written yet: its release is the newest.
  const recorded = [release.target, ...knownReleases(events).flatMap((k) => (targets.has(k.path) ? [k.path] : []))]
  const protect = [sharedDirOf(inputs, inputs.release!), release.link]
  const decisions = planPrune({ releases: existingReleases(recorded), keep: inputs.keepReleases, live: release.live ?? release.target, previous: release.previous, protect, inUse })
  release.pruned = decisions.map((d) => ({ ...d, error: d.remove ? removeRelease(d.path) : null }))
  for (const d of release.pruned) {
    printLine(`${d.remove ? (d.error ? 'could not remove' : 'removed') : 'kept'} ${d.path}: ${d.reason}${d.error ? ` (${d.error})` : ''}`)
    if (d.error) ctx.state.warnings.push(`keep-releases could not remove ${d.path}: ${d.error}`)
  }
}


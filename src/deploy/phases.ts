// The phases of a deploy, in order, each one log group (main.ts lists them). A phase reads
// and fills the DeployState; the pure core decides, the shell does the I/O.
import os from 'node:os'
import * as core from '@actions/core'
import { messageOf } from '../core/errors.js'
import { checkIsolation, formatViolations } from '../core/isolation.js'
import { DeployStop } from '../core/outcome.js'
import { collisionProblems, OwnershipError } from '../core/ownership.js'
import { describeCommand, planReleaseDeploy, type PlannedCommand, type ReleasePlan } from '../core/plan.js'
import type { ProcessRecord } from '../core/process-record.js'
import { staleProcesses } from '../core/release.js'
import { planMoves as decideMoves, planSwap } from '../core/swap.js'
import { UnsafeCommandError } from '../core/targets.js'
import { expectedInstances, verifyOwnHealthy } from '../core/verify.js'
import { cleanEnvironment } from '../shell/clean-env.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { fetchStatus } from '../shell/health.js'
import { getInputs, type Inputs } from '../shell/inputs.js'
import { acquireHostLock, lockFilePath, newLockToken } from '../shell/lock.js'
import { collectMetadata } from '../shell/metadata.js'
import { OUTPUT } from '../shell/outputs.js'
import { preflightApps } from '../shell/preflight.js'
import { runningFacts } from '../shell/proc.js'
import { writeSnapshot } from '../shell/snapshot.js'
import { runDirTarget } from '../shell/runs.js'
import { saveLockState } from '../shell/state.js'
import { ACTION_VERSION } from '../shell/version.js'
import { appTargets, availableCpus, wantedPaths } from './app-targets.js'
import { showLogs } from './own-processes.js'
import { Ownership } from './ownership.js'
import type { DeployPorts, Pm2Port } from './ports.js'
import { snapshotOf } from './records.js'
import { afterSwitch, releaseRecord } from './release.js'
import type { DeployState } from './state.js'

/** What the phases share once the inputs are known. */
export interface DeployContext {
  state: DeployState
  inputs: Inputs
  ownership: Ownership
  /** The environment pm2 and the ecosystem reader get (promise 7). */
  cleanEnv: Record<string, string>
  ports: DeployPorts
}

/** Where the ecosystem file of a release is: the new one, or the previous one on rollback. */
export interface Source {
  ecosystem: string | null
  workingDirectory: string
}

/** Inputs and ownership: parse the inputs, start connecting and reading the file meanwhile. */
export async function start(state: DeployState, ports: DeployPorts): Promise<DeployContext> {
  const inputs = getInputs()
  state.inputs = inputs
  const cleanEnv = cleanEnvironment(state.env, inputs.pm2Home)
  // Connecting needs nothing from the ecosystem file: its errors surface in "Workflow metadata", in order.
  state.opening = ports.openPm2({ pm2Path: inputs.pm2Path, pm2Home: inputs.pm2Home, env: state.env, workingDirectory: inputs.workingDirectory })
  state.opening.catch(() => undefined)
  const reading = inputs.ecosystem ? ports.readEcosystem(inputs.ecosystem, cleanEnv, inputs.workingDirectory) : Promise.resolve([])
  const ownership = new Ownership(state, inputs, reading)
  core.info(`app: ${inputs.app}  suffix: ${JSON.stringify(inputs.suffix)}  strategy: ${inputs.strategy}${inputs.dryRun ? '  (dry run)' : ''}`)
  core.info(`PM2_HOME: ${inputs.pm2Home}`)
  if (ownership.fromFile) core.info(`own processes: the apps of ${inputs.ecosystem} (being read)`)
  else await ownership.resolve()
  return { state, inputs, ownership, cleanEnv, ports }
}

/** Workflow metadata (promise 2), with the pm2 versions of the connection just opened. */
export async function connect(ctx: DeployContext): Promise<Pm2Port> {
  const { state, inputs } = ctx
  const session = await (state.opening ?? Promise.reject(new Error('no PM2 connection was opened'))).finally(async () => {
    const s = await state.opening?.catch(() => null)
    state.metadata = collectMetadata(state.env, {
      actionVersion: ACTION_VERSION,
      pm2CliVersion: s?.cliVersion ?? null,
      pm2DaemonVersion: s ? await s.daemonVersion() : null,
      pm2Home: inputs.pm2Home,
      pm2ReadPath: s?.readPath ?? null
    })
    for (const [k, v] of Object.entries(state.metadata)) if (v !== null) core.info(`${k}: ${v}`)
  })
  state.session = session
  return session
}

/** Host lock (promise 6): one deploy at a time per daemon. */
export async function takeHostLock(ctx: DeployContext): Promise<void> {
  const { state, inputs } = ctx
  const m = state.metadata
  const token = newLockToken()
  // Saved before taking the lock: the post step can release it even if this step dies right after.
  saveLockState({ file: lockFilePath(inputs.pm2Home), token })
  state.lock = await acquireHostLock({
    pm2Home: inputs.pm2Home,
    holder: {
      repository: m?.repository ?? null,
      workflow: m?.workflow ?? null,
      runId: m?.runId ?? null,
      runUrl: m?.runUrl ?? null,
      job: m?.job ?? null,
      app: inputs.app,
      suffix: inputs.suffix,
      host: m?.host ?? os.hostname(),
      token
    },
    timeoutSeconds: inputs.lockTimeoutSeconds,
    beforeWaiting: async () => void (await ctx.ownership.resolve()),
    log: { info: core.info, warning: core.warning }
  })
  core.info(`Holding ${state.lock.file}`)
}

/** PM2 state before (promise 2): the list and its snapshot, before any change. */
export async function recordBefore(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  ;[state.before] = await Promise.all([pm2.list(), ctx.ownership.resolve()])
  state.snapshots.before = writeSnapshot(state.runDirectory(runDirTarget(inputs)), state.runTag, snapshotOf(state, 'before', state.before))
  core.setOutput(OUTPUT.snapshotBefore, state.snapshots.before)
  core.info(`${state.before.length} process(es); snapshot: ${state.snapshots.before}`)
  const own = state.own
  for (const p of state.before) {
    core.info(`  ${own.has(p.name) ? '*' : ' '} ${p.pmId}\t${p.name}\t${p.namespace}\t${p.status}\tpid ${p.pid}\t↻${p.restarts}`)
  }
}

/** Plan and preflight (promises 1, 5 and 9): every command gated, every app checked, nothing sent. */
export async function planAndPreflight(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  const apps = await ctx.ownership.ecosystemApps()
  const collisions = collisionProblems(state.ownNames, state.before)
  if (collisions.length > 0) throw new OwnershipError(collisions.join('\n'))
  const planned = planMoves(ctx, apps, { ecosystem: inputs.ecosystem, workingDirectory: inputs.workingDirectory }, state.before)
  state.plan = planned.commands
  state.retire = planned.retire
  state.release = releaseRecord(inputs, planned)
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
export function planMoves(ctx: DeployContext, apps: readonly EcosystemApp[], source: Source, processes: readonly ProcessRecord[], names = ctx.state.ownNames): ReleasePlan {
  const { inputs, state } = ctx
  const input = { ownNames: names, processes, strategy: inputs.strategy, ecosystem: source.ecosystem, ecosystemEnv: inputs.ecosystemEnv, save: inputs.save }
  if (!source.ecosystem || inputs.strategy === 'recreate') return planReleaseDeploy(input, [], new Map())
  const targets = appTargets(names, apps, source.workingDirectory, processes)
  const moves = decideMoves(targets, processes)
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
    const sent = await pm2.send(cmd, ctx.state.own)
    core.info(`${sent.command} → exit ${sent.exitCode} (${sent.ms} ms)`)
    for (const line of sent.messages) core.info(`  ${line}`)
    if (sent.exitCode !== 0) {
      throw new DeployStop('failed', `${sent.command} failed with exit code ${sent.exitCode}: ${sent.messages.slice(-3).join(' ')}`, 'pm2 command failed')
    }
    if (cmd.verb === 'delete' || cmd.verb === 'delete-id') await isolation(ctx, pm2, 'after cleanup')
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

/** The own processes as verification sees them: a swap's old instances, still serving, left out. */
const withoutRetired = (state: DeployState, list: readonly ProcessRecord[]) => {
  const old = new Set(state.retired ? [] : state.retire.map((d) => d.pmId))
  return list.filter((p) => !old.has(p.pmId))
}

/** Own processes online and stable (promise 4), with the event bus when there is a window to watch. */
export async function watchOwn(ctx: DeployContext, pm2: Pm2Port, names: readonly string[], expected: (name: string) => number, opts: { stableSeconds: number; healthUrls: readonly string[] }) {
  const { state, inputs } = ctx
  // With PM2's event bus a crash wakes the check at once and the list is read every 2 s as a
  // safety net; without it (a pm2 wrapper, CLI reads) the list is read every 0.5 s.
  const eventSleep = opts.stableSeconds > 0 || opts.healthUrls.length > 0 ? await pm2.eventSleep(new Set(names)) : null
  const verdict = await verifyOwnHealthy({
    ownNames: names,
    expectedCounts: new Map(names.map((n) => [n, expected(n)])),
    stableSeconds: opts.stableSeconds,
    timeoutSeconds: inputs.timeoutSeconds,
    healthUrls: opts.healthUrls,
    list: async () => withoutRetired(state, await pm2.list()),
    fetchStatus,
    pollMs: eventSleep ? 2000 : 500,
    ...(eventSleep ? { sleep: eventSleep } : {})
  })
  if (!verdict.ok) {
    // The action never stops a process; a daemon shutting down does (see deploy/daemon-gone.ts).
    ctx.state.sawStopping ||= verdict.processes.some((p) => p.status === 'stopping')
    showLogs(verdict.failing, verdict.processes.length ? verdict.processes : await pm2.list(), inputs.logLines)
  }
  return verdict
}

/** How many instances each own name must have: the file's `instances`, else as many as before. */
export function expectedCounts(ctx: DeployContext, apps: readonly EcosystemApp[]): (name: string) => number {
  return (name) =>
    ctx.inputs.ecosystem
      ? expectedInstances(apps.find((a) => a.name === name)?.instances ?? null, availableCpus())
      : Math.max(1, ctx.state.before.filter((p) => p.name === name).length)
}

/**
 * Swap (promise 9): the new instances of each swapped app verified online and stable
 * beside the old ones (health URLs wait: either set may answer), then the old deleted by pm_id.
 */
export async function completeSwaps(ctx: DeployContext, pm2: Pm2Port, apps: readonly EcosystemApp[]): Promise<void> {
  const { state, inputs } = ctx
  const names = [...new Set(state.retire.map((d) => d.name))]
  const verdict = await watchOwn(ctx, pm2, names, expectedCounts(ctx, apps), { stableSeconds: inputs.stableSeconds, healthUrls: [] })
  state.checks.push({ name: 'new instances healthy', ok: verdict.ok, detail: verdict.reason })
  core.info(verdict.reason)
  if (!verdict.ok) throw new DeployStop('failed', `The new instances are not healthy (the old ones still serve): ${verdict.reason}`, 'Deploy not healthy')
  await sendAll(ctx, pm2, state.retire)
  state.retired = true
}

/** Swap phase: completeSwaps over the apps of the file being deployed. */
export async function swapInstances(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  await completeSwaps(ctx, pm2, await ctx.ownership.ecosystemApps())
}

/** Verify own processes (promise 4): online, stable, answering, and running what the file says. */
export async function verifyOwn(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  const apps = await ctx.ownership.ecosystemApps()
  const swappedAll = state.retired && state.ownNames.every((n) => state.retire.some((d) => d.name === n))
  // Swapped apps already stayed up for the window beside the old ones: the check now is that they still do.
  const verdict = await watchOwn(ctx, pm2, state.ownNames, expectedCounts(ctx, apps), { stableSeconds: swappedAll ? 0 : inputs.stableSeconds, healthUrls: inputs.healthUrls })
  state.checks.push({ name: 'own processes healthy', ok: verdict.ok, detail: verdict.reason })
  core.info(verdict.reason)
  if (!verdict.ok) throw new DeployStop('failed', `Own processes are not healthy: ${verdict.reason}`, 'Deploy not healthy')
  if (inputs.ecosystem) checkRunsWhatFileSays(ctx, verdict.processes, apps, inputs.workingDirectory)
}

/** Promise 4's second half: each own process runs the script, cwd and interpreter the file resolves to now. */
export function checkRunsWhatFileSays(ctx: DeployContext, processes: readonly ProcessRecord[], apps: readonly EcosystemApp[], workingDirectory: string): void {
  const { state } = ctx
  const stale = staleProcesses(runningFacts(processes), wantedPaths(state.ownNames, apps, workingDirectory), {
    switchedAt: state.switchedAt,
    releaseDir: state.release?.switched ? state.release.live : null
  })
  const detail = stale.length ? stale.map((s) => s.message).join('; ') : 'every own process runs the script, cwd and interpreter of the file'
  state.checks.push({ name: 'runs what the file says', ok: stale.length === 0, detail })
  if (stale.length > 0) {
    throw new DeployStop('failed', `Own processes do not run what the ecosystem file says (a stale release): ${detail}. \`strategy: recreate\` starts them from the file's paths.`, 'Stale release')
  }
  core.info(detail)
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

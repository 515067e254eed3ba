// The phases of a deploy, in order, each one log group (main.ts lists them). A phase reads
// and fills the DeployState; the pure core decides, the shell does the I/O.
import os from 'node:os'
import * as core from '@actions/core'
import { checkIsolation, formatViolations } from '../core/isolation.js'
import { messageOf } from '../core/errors.js'
import { DeployStop } from '../core/outcome.js'
import { collisionProblems, OwnershipError } from '../core/ownership.js'
import { describeCommand, planDeploy } from '../core/plan.js'
import type { ProcessRecord } from '../core/process-record.js'
import { expectedInstances, verifyOwnHealthy } from '../core/verify.js'
import { cleanEnvironment } from '../shell/clean-env.js'
import { fetchStatus } from '../shell/health.js'
import { getInputs, type Inputs } from '../shell/inputs.js'
import { acquireHostLock, lockFilePath, newLockToken } from '../shell/lock.js'
import { collectMetadata } from '../shell/metadata.js'
import { OUTPUT } from '../shell/outputs.js'
import { UnsafeCommandError } from '../shell/pm2/session.js'
import { preflightApps } from '../shell/preflight.js'
import { writeSnapshot } from '../shell/snapshot.js'
import { runDirTarget } from '../shell/runs.js'
import { saveLockState } from '../shell/state.js'
import { ACTION_VERSION } from '../shell/version.js'
import { showLogs, staleCwdWarnings } from './own-processes.js'
import { Ownership } from './ownership.js'
import type { DeployPorts, Pm2Port } from './ports.js'
import { snapshotOf } from './records.js'
import type { DeployState } from './state.js'

/** What the phases share once the inputs are known. */
export interface DeployContext {
  state: DeployState
  inputs: Inputs
  ownership: Ownership
  /** The environment pm2 and the ecosystem reader get (promise 7). */
  cleanEnv: Record<string, string>
}

const availableCpus = () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)

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
  return { state, inputs, ownership, cleanEnv }
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

/** Plan and preflight (promises 1 and 5): every command gated, every app checked, nothing sent. */
export async function planAndPreflight(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  const apps = await ctx.ownership.ecosystemApps()
  const collisions = collisionProblems(state.ownNames, state.before)
  if (collisions.length > 0) throw new OwnershipError(collisions.join('\n'))
  const { strategy, ecosystem, ecosystemEnv, save } = inputs
  state.plan = planDeploy({ ownNames: state.ownNames, processes: state.before, strategy, ecosystem, ecosystemEnv, save })
  for (const cmd of state.plan) {
    pm2.check(cmd, state.before, state.own)
    core.info(`${describeCommand(cmd)}    # ${cmd.why}`)
  }
  state.checks.push({ name: 'targets', ok: true, detail: 'every planned command reaches own processes only' })
  if (!inputs.ecosystem) return
  const problems = preflightApps(state.ownNames, apps, inputs.workingDirectory, { searchPath: pm2.searchPath, ecosystemEnv: inputs.ecosystemEnv })
  if (problems.length > 0) {
    state.checks.push({ name: 'preflight', ok: false, detail: problems.map((p) => `${p.app} ${p.problem}`).join('; ') })
    throw new DeployStop('aborted', `Preflight failed, nothing was changed:\n${problems.map((p) => `- ${p.app} ${p.problem}`).join('\n')}`, 'Preflight failed')
  }
  state.checks.push({ name: 'preflight', ok: true, detail: 'scripts and cwd exist, interpreters fit' })
}

/** Isolation (promise 3): every other process as it was before; a change is a SAFETY ABORT. */
async function isolation(ctx: DeployContext, pm2: Pm2Port, label: string): Promise<readonly ProcessRecord[]> {
  const { state, inputs } = ctx
  const now = await pm2.freshList()
  state.sawStopping ||= now.some((p) => p.status === 'stopping')
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

/** Deploy: the plan's commands in order, each gated on a fresh list; isolation after any cleanup. */
export async function sendPlan(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state } = ctx
  try {
    for (const cmd of state.plan) {
      const sent = await pm2.send(cmd, state.own)
      core.info(`${sent.command} → exit ${sent.exitCode} (${sent.ms} ms)`)
      for (const line of sent.messages) core.info(`  ${line}`)
      if (sent.exitCode !== 0) {
        throw new DeployStop('failed', `${sent.command} failed with exit code ${sent.exitCode}: ${sent.messages.slice(-3).join(' ')}`, 'pm2 command failed')
      }
      if (cmd.verb === 'delete') await isolation(ctx, pm2, 'after cleanup')
    }
  } catch (err) {
    if (err instanceof DeployStop) throw err
    if (!state.changed) throw err instanceof UnsafeCommandError ? new DeployStop('aborted', err.message, 'Unsafe command refused') : err
    throw new DeployStop('failed', messageOf(err), 'Deploy failed')
  }
}

/** Verify own processes (promise 4): online, stable, answering, or the job fails with their logs. */
export async function verifyOwn(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  const apps = await ctx.ownership.ecosystemApps()
  const expected = (name: string) =>
    inputs.ecosystem
      ? expectedInstances(apps.find((a) => a.name === name)?.instances ?? null, availableCpus())
      : Math.max(1, state.before.filter((p) => p.name === name).length)
  // With PM2's event bus a crash wakes the check at once and the list is read every 2 s as a
  // safety net; without it (a pm2 wrapper, CLI reads) the list is read every 0.5 s.
  const eventSleep = inputs.stableSeconds > 0 || inputs.healthUrls.length > 0 ? await pm2.eventSleep(state.own) : null
  const verdict = await verifyOwnHealthy({
    ownNames: state.ownNames,
    expectedCounts: new Map(state.ownNames.map((n) => [n, expected(n)])),
    stableSeconds: inputs.stableSeconds,
    timeoutSeconds: inputs.timeoutSeconds,
    healthUrls: inputs.healthUrls,
    list: () => pm2.list(),
    fetchStatus,
    pollMs: eventSleep ? 2000 : 500,
    ...(eventSleep ? { sleep: eventSleep } : {})
  })
  state.checks.push({ name: 'own processes healthy', ok: verdict.ok, detail: verdict.reason })
  core.info(verdict.reason)
  if (!verdict.ok) {
    state.sawStopping = verdict.processes.some((p) => p.status === 'stopping')
    showLogs(verdict.failing, verdict.processes.length ? verdict.processes : await pm2.list(), inputs.logLines)
    throw new DeployStop('failed', `Own processes are not healthy: ${verdict.reason}`, 'Deploy not healthy')
  }
  if (inputs.ecosystem) state.warnings.push(...staleCwdWarnings(verdict.processes, apps, inputs.workingDirectory))
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

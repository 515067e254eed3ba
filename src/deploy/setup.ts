// The phases before any plan (promises 2, 6, 8): inputs and ownership, the daemon connection
// and workflow metadata, the host lock, the list and snapshot before any change.
import os from 'node:os'
import * as core from '@actions/core'
import { pm2VersionWarnings } from '../core/pm2-versions.js'
import { cleanEnvironment } from '../shell/clean-env.js'
import { getInputs, type Inputs } from '../shell/inputs.js'
import { previousFromAuditLog } from '../shell/rollback-to.js'
import { acquireHostLock, lockFilePath, newLockToken } from '../shell/lock.js'
import { collectMetadata } from '../shell/metadata.js'
import { OUTPUT } from '../shell/outputs.js'
import { writeSnapshot } from '../shell/snapshot.js'
import { runDirTarget } from '../shell/runs.js'
import { saveLockState, saveSnapshotBefore } from '../shell/state.js'
import { ACTION_VERSION } from '../shell/version.js'
import { Ownership } from './ownership.js'
import { stageWritesRelease } from './prepare.js'
import type { DeployPorts, Pm2Port } from './ports.js'
import { snapshotOf } from './records.js'
import type { DeployState } from './state.js'
import type { DeployContext } from './context.js'
import { printLine, warn } from '../shell/print.js'

/** Inputs and ownership: parse the inputs, start connecting and reading the file meanwhile. */
export async function start(state: DeployState, ports: DeployPorts): Promise<DeployContext> {
  const inputs = getInputs(previousFromAuditLog)
  state.inputs = inputs
  if (inputs.rollbackTo) noteRollbackTo(inputs)
  const cleanEnv = cleanEnvironment(state.env, inputs.pm2Home)
  // Connecting needs nothing from the ecosystem file: its errors surface in "Workflow metadata", in order.
  const opening = ports.openPm2({ pm2Path: inputs.pm2Path, pm2Home: inputs.pm2Home, env: state.env, workingDirectory: inputs.workingDirectory })
  opening.catch(() => undefined)
  state.opening = opening
  // A release the prepare stage completes first (an upload, shared links, `npm ci`) is read once it is complete.
  const read = () => (inputs.ecosystem ? ports.readEcosystem(inputs.ecosystem, cleanEnv, inputs.workingDirectory) : Promise.resolve([]))
  let startReading = (): void => undefined
  const reading = inputs.ecosystem && stageWritesRelease(state, inputs) ? new Promise<void>((go) => (startReading = go)).then(read) : read()
  const ownership = new Ownership(state, inputs, reading)
  printLine(`app: ${inputs.app}  suffix: ${JSON.stringify(inputs.suffix)}  strategy: ${inputs.strategy}${inputs.dryRun ? '  (dry run)' : ''}`)
  printLine(`PM2_HOME: ${inputs.pm2Home}`)
  if (ownership.fromFile) printLine(`own processes: the apps of ${inputs.ecosystem} (being read)`)
  else await ownership.resolve()
  return { state, inputs, ownership, cleanEnv, ports, opening, startReading }
}

/** A rollback on demand (promise 16) says what it goes back to, and that it neither prepares nor migrates. */
function noteRollbackTo(inputs: Inputs): void {
  const r = inputs.release
  if (r) printLine(`rollback on demand (rollback-to: ${inputs.rollbackTo}): ${r.live ?? 'no release'} → ${r.releaseDir}`)
  const skipped = [inputs.prepare && '`prepare`', inputs.migrate && '`migrate`'].filter(Boolean)
  if (skipped.length > 0) printLine(`${skipped.join(' and ')} not run: rollback-to returns to a release that was live before, already prepared (nothing undoes a migration)`)
}

/** Workflow metadata (promise 2), with the pm2 versions of the connection just opened (recorded also when it failed). */
export async function connect(ctx: DeployContext): Promise<Pm2Port> {
  const { state, inputs } = ctx
  let opened: Pm2Port | null = null
  let failure: unknown = null
  try {
    opened = await ctx.opening
  } catch (err) {
    failure = err
  }
  state.metadata = collectMetadata(state.env, {
    actionVersion: ACTION_VERSION,
    pm2CliVersion: opened?.cliVersion ?? null,
    pm2DaemonVersion: opened ? await opened.daemonVersion() : null,
    pm2Home: inputs.pm2Home,
    pm2ReadPath: opened?.readPath ?? null
  })
  for (const [k, v] of Object.entries(state.metadata)) if (v !== null) printLine(`${k}: ${v}`)
  if (!opened) throw failure
  for (const w of pm2VersionWarnings({ cli: state.metadata.pm2CliVersion, daemon: state.metadata.pm2DaemonVersion })) {
    printLine(`warning: ${w}`)
    state.warnings.push(w)
  }
  state.session = opened
  return opened
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
    log: { info: printLine, warning: warn }
  })
  printLine(`Holding ${state.lock.file}`)
}

/** PM2 state before (promise 2): the list and its snapshot, before any change. */
export async function recordBefore(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  ;[state.before] = await Promise.all([pm2.list(), ctx.ownership.resolve()])
  state.snapshots.before = writeSnapshot(state.runDirectory(runDirTarget(inputs)), state.runTag, snapshotOf(state, 'before', state.before))
  core.setOutput(OUTPUT.snapshotBefore, state.snapshots.before)
  saveSnapshotBefore(state.snapshots.before)
  printLine(`${state.before.length} process(es); snapshot: ${state.snapshots.before}`)
  const own = state.own
  for (const p of state.before) {
    printLine(`  ${own.has(p.name) ? '*' : ' '} ${p.pmId}\t${p.name}\t${p.namespace}\t${p.status}\tpid ${p.pid}\t↻${p.restarts}`)
  }
}

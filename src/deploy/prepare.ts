// Promise 15: a release is prepared before it can go live, and never while it is live.
// "Prepare release" (after the workflow metadata, before the host lock): release-dir checked
// (core/release-guard.ts), the per-release-directory lock taken, a staged upload made
// release-dir, `shared` linked, `prepare` run. "Migrate" (under the lock, before the switch).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { causeLine } from '../core/cause.js'
import { UserError } from '../core/errors.js'
import { SKIP_MIGRATE_INPUT } from '../core/internal-inputs.js'
import { DeployStop } from '../core/outcome.js'
import { knownReleases } from '../core/release-history.js'
import { defaultSharedDir, previousOfLive, releaseDirProblems } from '../core/release-guard.js'
import type { HookRecord } from '../core/report-schema.js'
import { parseSharedPaths } from '../core/shared-paths.js'
import { releaseEvents } from '../shell/audit.js'
import { runHook, sha256Of, type HookResult } from '../shell/hook.js'
import type { Inputs, ReleaseInputs } from '../shell/inputs.js'
import { acquireHostLock, newLockToken } from '../shell/lock.js'
import { printLine, warn } from '../shell/print.js'
import { realOrSelf, runningFacts } from '../shell/proc.js'
import { liveRelease } from '../shell/release.js'
import { discardStaged, exists, installStaged, linkShared, realPathOfMaybeMissing } from '../shell/stage.js'
import type { DeployContext } from './context.js'
import type { Pm2Port } from './ports.js'
import { releaseKindOf } from './records.js'
import type { DeployState } from './state.js'

/** Whether the run has a prepare stage at all: a release, or a stage input that needs one. */
export function hasPrepareStage(ctx: DeployContext): boolean {
  const i = ctx.inputs
  return i.release !== null || ctx.state.staged !== null || i.prepare !== null || i.migrate !== null || i.shared.length > 0
}

/** Whether the stage will write into the release before its ecosystem file can be read (the reading waits for it). */
export function stageWritesRelease(state: DeployState, inputs: Inputs): boolean {
  if (!inputs.release || inputs.release.redeploy || inputs.dryRun || isRollback(state, inputs)) return false
  return state.staged !== null || inputs.prepare !== null || inputs.shared.length > 0
}

/** A rollback (a fleet switching this host back, or `rollback-to`) returns to a release that was live before. */
function isRollback(state: DeployState, inputs: Inputs): boolean {
  return inputs.rollbackTo !== null || releaseKindOf(state) !== 'deploy'
}

const skipped = (text: string | null, why: string): HookRecord | null =>
  text === null ? null : { sha256: sha256Of(text), skipped: why, exitCode: null, signal: null, timedOut: false, durationMs: 0, lastLines: [] }

/** Prepare release: the whole stage, or the reason it is skipped; the ecosystem file is read once the release is complete. */
export async function prepareRelease(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  const skip = (why: string) => {
    printLine(`${why}: nothing is uploaded, linked or prepared`)
    state.prepare = skipped(inputs.prepare, why)
    dropStaged(state)
    ctx.startReading()
  }
  if (isRollback(state, inputs)) return skip('a rollback returns to a release that was live before')
  const r = inputs.release
  if (!r) throw new UserError('prepare, migrate, shared and an upload need a release: set `release-dir` (the new release, e.g. /var/www/app/releases/<sha>) and `current-link`')
  const { paths, problems } = parseSharedPaths(inputs.shared)
  if (problems.length > 0) throw new UserError(`Invalid inputs:\n${problems.map((p) => `- ${p}`).join('\n')}`)
  const sharedDir = sharedDirOf(inputs, r)
  if (r.live === r.releaseDir) return skip(`release-dir ${r.releaseDir} is the live release (${r.currentLink} names it): a redeploy`)
  await guardReleaseDir(ctx, pm2, r, sharedDir)
  if (inputs.dryRun) {
    printLine(`dry run: would ${state.staged ? 'make the upload release-dir, ' : ''}link ${paths.length} shared path(s) into ${sharedDir}${inputs.prepare ? ' and run prepare' : ''}`)
    state.prepare = skipped(inputs.prepare, 'a dry run')
    dropStaged(state)
    if (!exists(r.releaseDir)) throw new DeployStop('dry-run', `dry run: release-dir ${r.releaseDir} checked; the upload is not made live in a dry run, so its plan cannot be read. Nothing was changed.`, '')
    return ctx.startReading()
  }
  await takeReleaseLock(ctx, r.releaseDir)
  if (liveRelease(r.currentLink) === r.releaseDir) {
    throw new DeployStop('aborted', `Another deploy made release-dir ${r.releaseDir} live while this one waited for it. Nothing was changed: run the deploy again.`, 'release-dir went live meanwhile')
  }
  const staged = state.staged
  if (staged) stageStep(`could not make the upload ${r.releaseDir}`, () => installUpload(state, staged, r.releaseDir))
  if (!exists(r.releaseDir)) throw new UserError(`release-dir: ${r.releaseDir} does not exist: build the release into it before the deploy step, or set \`upload\``)
  for (const p of paths) {
    const done = stageStep(`shared: could not link ${p.rel} into ${sharedDir}`, () => linkShared(r.releaseDir, sharedDir, p))
    const what = { seeded: `seeded ${path.join(sharedDir, p.rel)} from the release's copy`, replaced: "the release's copy was removed and replaced by the link", created: `created the directory ${path.join(sharedDir, p.rel)}`, linked: 'linked' }[done.action]
    printLine(`shared ${p.rel} → ${path.join(sharedDir, p.rel)}: ${what}`)
  }
  if (inputs.prepare !== null) state.prepare = await runStep(ctx, 'prepare', inputs.prepare, r, sharedDir)
  ctx.startReading()
}

/** A file-system step of the stage: its failure ends `aborted` with what it was doing (nothing sent to PM2 yet). */
function stageStep<T>(doing: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof UserError) throw new DeployStop('aborted', `${err.message}\nNothing was sent to PM2 and current-link is untouched.`, 'Prepare failed')
    throw new DeployStop('aborted', `${doing}: ${(err as Error).message}. Nothing was sent to PM2 and current-link is untouched.`, 'Prepare failed')
  }
}

/** shared-dir as given, or `shared` beside the directory that holds the releases; real path of its existing part. */
export function sharedDirOf(inputs: Inputs, r: ReleaseInputs): string {
  // Relative like release-dir: to the workspace.
  const base = process.env.GITHUB_WORKSPACE || process.cwd()
  const home = process.env.HOME || os.homedir()
  const given = inputs.sharedDir.trim().replace(/^~(?=$|\/)/, home)
  // The releases' directory is the live release's when there is one: a mistaken release-dir must not move shared-dir.
  return realPathOfMaybeMissing(given ? path.resolve(base, given) : defaultSharedDir(r.live ?? r.releaseDir))
}

/** release-dir checked against everything a write there could hurt (core/release-guard.ts); refused → aborted, nothing written. */
async function guardReleaseDir(ctx: DeployContext, pm2: Pm2Port, r: ReleaseInputs, sharedDir: string): Promise<void> {
  const { state, inputs } = ctx
  const events = releaseEvents(inputs.auditLog, inputs.app, inputs.suffix)
  const previous = previousOfLive(events, r.live)
  const recorded = knownReleases(events).map((k) => k.path)
  const holders = [r.live, previous, ...recorded].flatMap((p) => (p && p !== r.releaseDir ? [path.dirname(p)] : []))
  const processDirs = runningFacts(await pm2.list()).flatMap((f) =>
    [f.procCwd ?? f.realPmCwd, f.realScript && path.dirname(f.realScript)].flatMap((p) => (p ? [{ name: f.name, pmId: f.pmId, path: p }] : []))
  )
  const realLink = path.join(realOrSelf(path.dirname(r.currentLink)), path.basename(r.currentLink))
  const replacesExisting = state.staged !== null && fs.existsSync(r.releaseDir)
  const problems = releaseDirProblems({ releaseDir: r.releaseDir, currentLink: r.currentLink, realLink, live: r.live, previous, sharedDir, releaseHolders: holders, processDirs, replacesExisting, recorded })
  if (problems.length > 0) {
    state.checks.push({ name: 'release-dir', ok: false, detail: problems.join('; ') })
    throw new DeployStop('aborted', `release-dir refused: nothing was uploaded, linked, prepared or changed.\n${problems.map((p) => `- ${p}`).join('\n')}`, 'release-dir refused')
  }
  state.checks.push({ name: 'release-dir', ok: true, detail: 'a release of its own: not the link, the live or previous release, shared-dir, the releases directory or a PM2 process directory' })
}

/** The per-release-directory lock: two runs never prepare one directory at once; held to the end of the run. */
async function takeReleaseLock(ctx: DeployContext, releaseDir: string): Promise<void> {
  const { state, inputs } = ctx
  const m = state.metadata
  const file = path.join(path.dirname(releaseDir), `.${path.basename(releaseDir)}.pm2-safe-deploy.lock`)
  fs.mkdirSync(path.dirname(releaseDir), { recursive: true })
  state.releaseLock = await acquireHostLock({
    pm2Home: inputs.pm2Home,
    file,
    subject: `release-dir ${releaseDir}`,
    holder: { repository: m?.repository ?? null, workflow: m?.workflow ?? null, runId: m?.runId ?? null, runUrl: m?.runUrl ?? null, job: m?.job ?? null, app: inputs.app, suffix: inputs.suffix, host: m?.host ?? os.hostname(), token: newLockToken() },
    timeoutSeconds: inputs.lockTimeoutSeconds + inputs.prepareTimeoutSeconds,
    log: { info: printLine, warning: warn }
  })
}

function installUpload(state: DeployState, staged: string, releaseDir: string): void {
  const done = installStaged(staged, releaseDir)
  state.staged = null
  printLine(`the upload is now ${releaseDir}${done.replaced ? ' (an earlier copy of it, never live, was replaced)' : ''}${done.copied ? ' (copied across file systems)' : ''}`)
}

/** A staged upload this run does not make live is removed, unless it is a path the run must never remove. */
export function dropStaged(state: DeployState): void {
  const staged = state.staged
  if (!staged) return
  state.staged = null
  const r = state.inputs?.release
  const keep = [r?.currentLink, r?.live, r?.releaseDir, ...state.before.map((p) => p.cwd)].some((p) => p && (p === staged || p.startsWith(staged + path.sep)))
  if (keep || path.dirname(staged) === staged) return void state.warnings.push(`the staged upload ${staged} was left in place: it is or holds a path the deploy never removes`)
  const problem = discardStaged(staged)
  if (problem) state.warnings.push(`could not remove the staged upload ${staged}: ${problem}`)
  else printLine(`the staged upload ${staged} was removed`)
}

/** Runs `prepare` or `migrate` in the release; a failure ends `aborted` with its cause and last lines. */
async function runStep(ctx: DeployContext, label: 'prepare' | 'migrate', text: string, r: ReleaseInputs, sharedDir: string): Promise<HookRecord> {
  const { state, inputs } = ctx
  const env = { ...ctx.cleanEnv, RELEASE_DIR: r.releaseDir, SHARED_DIR: sharedDir, PREVIOUS_RELEASE_DIR: r.live ?? '' }
  printLine(`${label}: sh -e in ${r.releaseDir} (sha256 ${sha256Of(text)}), at most ${inputs.prepareTimeoutSeconds} s`)
  const res = await runHook({ label, text, cwd: r.releaseDir, env, timeoutSeconds: inputs.prepareTimeoutSeconds, keepLines: inputs.logLines })
  const record: HookRecord = { sha256: res.sha256, skipped: null, exitCode: res.exitCode, signal: res.signal, timedOut: res.timedOut, durationMs: res.durationMs, lastLines: res.lastLines }
  state.checks.push({ name: label, ok: res.exitCode === 0 && !res.timedOut, detail: describeEnd(label, res, inputs.prepareTimeoutSeconds) })
  if (res.exitCode === 0 && !res.timedOut) {
    printLine(`${label} done in ${(res.durationMs / 1000).toFixed(1)} s`)
    return record
  }
  state[label] = record
  state.failing.push({ name: label, cause: causeLine(res.lastLines, []) ?? res.lastLines.at(-1)?.trim() ?? null, logs: [{ stream: 'out', file: `${label} output`, lines: res.lastLines }] })
  const untouched = `nothing was sent to PM2 and ${r.currentLink} is untouched`
  const own = label === 'migrate' ? ' What the migration itself changed is its own: nothing undoes it (migrations must work with the previous release too).' : ''
  throw new DeployStop('aborted', `${describeEnd(label, res, inputs.prepareTimeoutSeconds)} in ${r.releaseDir}: ${untouched}.${own}`, `${label === 'prepare' ? 'Prepare' : 'Migrate'} failed`)
}

function describeEnd(label: string, res: HookResult, timeoutSeconds: number): string {
  if (res.timedOut) return `${label} ran past prepare-timeout-seconds (${timeoutSeconds} s); its whole process group was killed`
  if (res.exitCode === 0) return `${label} exited 0 after ${(res.durationMs / 1000).toFixed(1)} s`
  if (res.exitCode === null) return `${label} ${res.signal ? `was killed by ${res.signal}` : 'could not start'}`
  return `${label} exited with ${res.exitCode}`
}

/** Migrate: once per deploy of a new release, under the lock, after the preflight and before the switch. */
export async function migrateRelease(ctx: DeployContext): Promise<void> {
  const { state, inputs } = ctx
  const text = inputs.migrate
  if (text === null) return
  const r = inputs.release
  const skip = (why: string) => {
    printLine(`migrate not run: ${why}`)
    state.migrate = skipped(text, why)
  }
  if (isRollback(state, inputs)) return skip('a rollback never migrates')
  if (!r) throw new UserError('migrate needs a release: set `release-dir` and `current-link`')
  if (r.live === r.releaseDir || state.release?.previous === r.releaseDir) return skip(`release-dir ${r.releaseDir} is the live release: a redeploy`)
  if (state.env[`INPUT_${SKIP_MIGRATE_INPUT.toUpperCase()}`]?.trim() === 'true') return skip('the fleet runs it on its first host only')
  state.migrate = await runStep(ctx, 'migrate', text, r, sharedDirOf(inputs, r))
}

// The guarded deploy, phase by phase. Each phase is a log group; the pure core
// (ownership, targets, plan, isolation, verify, report) does the deciding, and this
// file only moves data between it, PM2, the file system and the runner (runner.ts).
import os from 'node:os'
import path from 'node:path'
import fs from 'node:fs'
import * as core from './runner.js'
import { buildAuditRecord, resolveAuditTarget, tryAppendAudit } from './shell/audit.js'
import { cleanEnvironment } from './shell/clean-env.js'
import { EcosystemError, readEcosystem, type EcosystemApp } from './shell/ecosystem.js'
import { InputError, parseInputs, type Inputs } from './shell/inputs.js'
import { checkIsolation, formatViolations, type Violation } from './core/isolation.js'
import { acquireHostLock, LockError, lockFilePath, newLockToken, type HostLock } from './shell/lock.js'
import { tailFile } from './shell/logs.js'
import { collectMetadata, type WorkflowMetadata } from './shell/metadata.js'
import { collisionProblems, deriveOwnNames, OwnershipError } from './core/ownership.js'
import { describeCommand, planDeploy, PlanError, type PlannedCommand } from './core/plan.js'
import { Pm2NotFoundError } from './shell/pm2/locate.js'
import { ProcessListError, type ProcessRecord } from './shell/pm2/process-list.js'
import { NoDaemonError, Pm2CommandError, Pm2Session, UnsafeCommandError } from './shell/pm2/session.js'
import { preflightApps, resolveAppPaths } from './shell/preflight.js'
import { DAEMON_GONE_TITLE, daemonGoneMessage, renderAnnotation, renderLogVerdict, renderSummary, REPORT_SCHEMA_VERSION, restoreHints, type DeployReport, type DeployResult } from './core/report.js'
import { readDumpSummary } from './shell/dump.js'
import { daemonWentAway } from './shell/daemon-gone.js'
import { writeSnapshot } from './shell/snapshot.js'
import { ensureRunDir, pruneRuns, runDirTargetFromRawInputs, type RunDirTarget } from './shell/runs.js'
import { STATE } from './shell/state.js'
import { fetchStatus } from './shell/health.js'
import { expectedInstances, verifyOwnHealthy } from './core/verify.js'
import { ACTION_VERSION } from './shell/version.js'

/** Ends the deploy with a result; `aborted` means nothing was changed. */
class Stop extends Error {
  constructor(
    readonly result: Exclude<DeployResult, 'deployed'>,
    message: string,
    readonly title: string
  ) {
    super(message)
  }
}

const availableCpus = () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)

/** Errors whose message is meant for the user as it is: no stack trace. */
const USER_ERRORS = [InputError, OwnershipError, PlanError, EcosystemError, Pm2NotFoundError, NoDaemonError, UnsafeCommandError, LockError, ProcessListError, Pm2CommandError]

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<DeployResult> {
  const started = Date.now()
  const timings: Record<string, number> = {}
  const time = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now()
    try {
      return await core.group(phase, fn)
    } finally {
      timings[phase] = (timings[phase] ?? 0) + Date.now() - t0
    }
  }

  let inputs: Inputs | null = null
  let endList: ProcessRecord[] | null = null
  let opening: Promise<Pm2Session> | null = null
  let session: Pm2Session | null = null
  let lock: HostLock | null = null
  let metadata: WorkflowMetadata | null = null
  let ownNames: string[] = []
  let plan: PlannedCommand[] = []
  let before: ProcessRecord[] = []
  let after: ProcessRecord[] = []
  let snapshotBefore: string | null = null
  let snapshotAfter: string | null = null
  const checks: DeployReport['checks'] = []
  const violations: Violation[] = []
  const warnings: string[] = []
  let result: DeployResult = 'deployed'
  let daemonGone = false
  // Processes seen `stopping` when the deploy failed: the action never stops any, a daemon shutting down does.
  let sawStopping = false
  let message = ''
  let title = ''
  const runTag = `${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${env.GITHUB_JOB ?? 'job'}-${process.pid}-${Date.now()}`
    .replace(/[^\w.-]/g, '_')
  // This run's directory for snapshots and the report (issue 13): made on first use.
  let runDir: string | null = null
  const runDirectory = (target: RunDirTarget) => (runDir ??= ensureRunDir(target, new Date(started), runTag))
  const runDirTarget = (opts: Inputs): RunDirTarget => ({ snapshotDir: opts.snapshotDir, isDefault: opts.snapshotDirIsDefault, pm2Home: opts.pm2Home })

  // A cancelled job signals: GitHub sends SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after
  // that. ONE handler serves the whole sequence: the first signal lets a pm2 command in
  // flight finish (briefly), records the attempt, releases the lock and exits; a later
  // signal only says the cleanup is under way (it is bounded, and SIGKILL ends it anyway).
  let interruptedBy: NodeJS.Signals | null = null
  // Set once the run records itself: a signal handler that finds it set writes no second record.
  let recorded = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruptedBy) {
      core.info(`${signal} received while stopping after ${interruptedBy}: still recording the attempt and releasing the host lock.`)
      return
    }
    interruptedBy = signal
    void interrupted(signal)
  }
  const interrupted = async (signal: NodeJS.Signals) => {
    const settled = await ((session as Pm2Session | null)?.settle(5000) ?? Promise.resolve(true))
    if (!settled) core.warning(`A pm2 command was still running ${signal === 'SIGINT' ? 'after Ctrl-C' : `after ${signal}`}; it may finish after this step ends.`)
    const sent = (session as Pm2Session | null)?.sent ?? []
    if (recorded) {
      ;(lock as HostLock | null)?.release()
      process.exit(1)
    }
    const auditProblem = tryAppendAudit(
      resolveAuditTarget(env),
      buildAuditRecord({
        time: new Date().toISOString(),
        result: sent.length > 0 ? 'failed' : 'aborted',
        message: `Deploy interrupted by ${signal} ${sent.length > 0 ? 'after sending pm2 commands: it may be half done' : 'before any change'}`,
        app: inputs?.app ?? env['INPUT_APP'] ?? '',
        environmentSuffix: inputs?.suffix ?? '',
        strategy: inputs?.strategy ?? '',
        dryRun: inputs?.dryRun ?? false,
        ownNames,
        commands: sent,
        violations,
        metadata,
        report: null,
        snapshots: { before: snapshotBefore, after: null }
      })
    )
    if (auditProblem) core.warning(auditProblem)
    const released = lock?.release() ?? false
    core.error(
      `Deploy interrupted by ${signal}; ${released ? 'the host lock was released' : 'no host lock was held'}.` +
        (sent.length > 0 ? ' Check the processes: the deploy may be half done.' : ' Nothing was changed.')
    )
    process.exit(1)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    inputs = parseInputs(env)
    const opts = inputs
    const cleanEnv = cleanEnvironment(env, opts.pm2Home)

    // Connecting to the daemon needs nothing from the ecosystem file: start it now and
    // read the file meanwhile. Its errors surface in "Workflow metadata", in order.
    opening = Pm2Session.open({ pm2Path: opts.pm2Path, pm2Home: opts.pm2Home, env, workingDirectory: opts.workingDirectory })
    opening.catch(() => undefined)
    // The ecosystem file is read in a child process meanwhile, too. Nothing before the
    // first process list needs it: with a whitelist, own names are known (and checked) at
    // once; without one they come from the file, resolved while the lock and the list are
    // taken, or before waiting on another deploy's lock, so a mistake never waits for it.
    const ecosystem = opts.ecosystem
    const reading = ecosystem ? readEcosystem(ecosystem, cleanEnv, opts.workingDirectory) : Promise.resolve([])
    reading.catch(() => undefined)
    let ecosystemApps: EcosystemApp[] = []
    let ecosystemLogged = false
    const awaitEcosystem = async () => {
      ecosystemApps = await reading
      if (ecosystem && !ecosystemLogged) core.info(`ecosystem ${ecosystem}: ${ecosystemApps.map((a) => a.name).join(', ')}`)
      ecosystemLogged = true
    }
    const own = new Set<string>()
    let ownership: Promise<void> | null = null
    const resolveOwnership = () =>
      (ownership ??= (async () => {
        if (opts.whitelist.length === 0) await awaitEcosystem()
        ownNames = deriveOwnNames({
          app: opts.app,
          suffix: opts.suffix,
          whitelist: opts.whitelist,
          ecosystemAppNames: ecosystemApps.map((a) => a.name)
        })
        for (const n of ownNames) own.add(n)
        core.info(`own processes${opts.whitelist.length === 0 ? ' (the apps of the ecosystem file)' : ''}: ${ownNames.join(', ')}`)
        core.setOutput('own-processes', JSON.stringify(ownNames))
      })())
    await time('Inputs and ownership', async () => {
      core.info(`app: ${opts.app}  suffix: ${JSON.stringify(opts.suffix)}  strategy: ${opts.strategy}${opts.dryRun ? '  (dry run)' : ''}`)
      core.info(`PM2_HOME: ${opts.pm2Home}`)
      if (opts.whitelist.length > 0 || !ecosystem) await resolveOwnership()
      else core.info(`own processes: the apps of ${ecosystem ?? 'the ecosystem file'} (being read)`)
    })

    await time('Workflow metadata', async () => {
      try {
        session = await opening
      } finally {
        const s = session as Pm2Session | null
        metadata = collectMetadata(env, {
          actionVersion: ACTION_VERSION,
          pm2CliVersion: s?.cliVersion ?? null,
          pm2DaemonVersion: s ? await s.daemonVersion() : null,
          pm2Home: opts.pm2Home,
          pm2ReadPath: s?.readPath ?? null
        })
        for (const [k, v] of Object.entries(metadata)) if (v !== null) core.info(`${k}: ${v}`)
      }
    })
    const pm2 = session as unknown as Pm2Session

    await time('Host lock', async () => {
      const m = metadata!
      const token = newLockToken()
      // Saved before taking the lock: the post step can release it even if this step dies right after.
      core.saveState(STATE.lockFile, lockFilePath(opts.pm2Home))
      core.saveState(STATE.lockToken, token)
      lock = await acquireHostLock({
        pm2Home: opts.pm2Home,
        holder: {
          repository: m.repository,
          workflow: m.workflow,
          runId: m.runId,
          runUrl: m.runUrl,
          job: m.job,
          app: opts.app,
          suffix: opts.suffix,
          host: m.host,
          token
        },
        timeoutSeconds: opts.lockTimeoutSeconds,
        beforeWaiting: resolveOwnership,
        log: { info: core.info, warning: core.warning }
      })
      core.info(`Holding ${lock.file}`)
    })

    await time('PM2 state before', async () => {
      ;[before] = await Promise.all([pm2.list(), resolveOwnership()])
      snapshotBefore = writeSnapshot(runDirectory(runDirTarget(opts)), runTag, {
        schemaVersion: 1,
        label: 'before',
        takenAt: new Date().toISOString(),
        pm2Home: opts.pm2Home,
        ownNames,
        processes: before
      })
      core.setOutput('snapshot-before', snapshotBefore)
      core.info(`${before.length} process(es); snapshot: ${snapshotBefore}`)
      for (const p of before) {
        core.info(`  ${own.has(p.name) ? '*' : ' '} ${p.pmId}\t${p.name}\t${p.namespace}\t${p.status}\tpid ${p.pid}\t↻${p.restarts}`)
      }
    })

    await time('Plan and preflight', async () => {
      if (opts.whitelist.length > 0) await awaitEcosystem()
      const collisions = collisionProblems(ownNames, before)
      if (collisions.length > 0) throw new OwnershipError(collisions.join('\n'))
      plan = planDeploy({
        ownNames,
        processes: before,
        strategy: opts.strategy,
        ecosystem: opts.ecosystem,
        ecosystemEnv: opts.ecosystemEnv,
        save: opts.save
      })
      for (const cmd of plan) {
        pm2.check(cmd, before, own)
        core.info(`${describeCommand(cmd)}    # ${cmd.why}`)
      }
      checks.push({ name: 'targets', ok: true, detail: 'every planned command reaches own processes only' })
      if (opts.ecosystem) {
        // The PATH pm2 gets: the session puts pm2's own directory (nvm's bin) first.
        const searchPath = [opts.pm2Path.includes('/') ? path.dirname(opts.pm2Path) : '', cleanEnv.PATH ?? ''].filter(Boolean).join(path.delimiter)
        const problems = preflightApps(ownNames, ecosystemApps, opts.workingDirectory, { searchPath })
        if (problems.length > 0) {
          checks.push({ name: 'preflight', ok: false, detail: problems.map((p) => `${p.app} ${p.problem}`).join('; ') })
          throw new Stop('aborted', `Preflight failed, nothing was changed:\n${problems.map((p) => `- ${p.app} ${p.problem}`).join('\n')}`, 'Preflight failed')
        }
        checks.push({ name: 'preflight', ok: true, detail: 'scripts and cwd exist, interpreters fit' })
      }
    })

    if (opts.dryRun) {
      result = 'dry-run'
      message = `dry run: ${plan.length} command(s) planned and checked, nothing sent`
      return result
    }

    let changed = false
    const isolation = async (label: string) => {
      const now = await pm2.freshList()
      const r = checkIsolation(before, now, own, opts.foreignRestarts)
      for (const w of r.warnings) warnings.push(`${w.name}: ${w.detail}`)
      checks.push({ name: `isolation ${label}`, ok: r.violations.length === 0, detail: r.violations.length ? formatViolations(r.violations) : 'other apps unchanged' })
      if (r.violations.length > 0) {
        violations.push(...r.violations)
        throw new Stop('failed', `SAFETY ABORT: other apps changed ${label}: ${formatViolations(r.violations)}`, 'SAFETY ABORT')
      }
      core.info(`isolation ${label}: other apps unchanged`)
      return now
    }

    await time('Deploy', async () => {
      for (const cmd of plan) {
        const sent = await pm2.send(cmd, own)
        changed = true
        core.info(`${sent.command} → exit ${sent.exitCode} (${sent.ms} ms)`)
        for (const line of sent.messages) core.info(`  ${line}`)
        if (sent.exitCode !== 0) {
          throw new Stop('failed', `${sent.command} failed with exit code ${sent.exitCode}: ${sent.messages.slice(-3).join(' ')}`, 'pm2 command failed')
        }
        if (cmd.verb === 'delete') await isolation('after cleanup')
      }
    }).catch((err) => {
      if (!changed && err instanceof UnsafeCommandError) throw new Stop('aborted', err.message, 'Unsafe command refused')
      if (err instanceof Stop || !changed) throw err
      throw new Stop('failed', (err as Error).message, 'Deploy failed')
    })

    await time('Verify own processes', async () => {
      const counts = new Map(
        ownNames.map((n) => [n, opts.ecosystem ? expectedInstances(ecosystemApps.find((a) => a.name === n)?.instances ?? null, availableCpus()) : Math.max(1, before.filter((p) => p.name === n).length)])
      )
      // With PM2's event bus a crash wakes the check at once, and the list is read every
      // 2 s as a safety net; without it (a pm2 wrapper, CLI reads) it is read every 0.5 s.
      const eventSleep = opts.stableSeconds > 0 || opts.healthUrls.length > 0 ? await pm2.eventSleep(own) : null
      const verdict = await verifyOwnHealthy({
        ownNames,
        expectedCounts: counts,
        stableSeconds: opts.stableSeconds,
        timeoutSeconds: opts.timeoutSeconds,
        healthUrls: opts.healthUrls,
        list: () => pm2.list(),
        fetchStatus,
        pollMs: eventSleep ? 2000 : 500,
        ...(eventSleep ? { sleep: eventSleep } : {})
      })
      checks.push({ name: 'own processes healthy', ok: verdict.ok, detail: verdict.reason })
      core.info(verdict.reason)
      if (!verdict.ok) {
        sawStopping = verdict.processes.some((p) => p.status === 'stopping')
        showLogs(verdict.failing, verdict.processes.length ? verdict.processes : await pm2.list(), opts.logLines)
        throw new Stop('failed', `Own processes are not healthy: ${verdict.reason}`, 'Deploy not healthy')
      }
      if (opts.ecosystem) warnStaleCwd(verdict.processes, ecosystemApps, opts.workingDirectory, warnings)
    })

    await time('Isolation check', async () => {
      // Nothing changes PM2 after this (save writes a file): the list is the after snapshot too.
      endList = await isolation('at the end')
    })

    if (opts.save) {
      await time('Save', async () => {
        const sent = await pm2.send({ verb: 'save', why: 'deploy verified' }, own)
        core.info(`${sent.command} → exit ${sent.exitCode}`)
        if (sent.exitCode !== 0) warnings.push(`pm2 save exited ${sent.exitCode}: the deploy is live but the saved list is old`)
      })
    }
    result = 'deployed'
    message = `${ownNames.length} own process name(s) deployed and stable; other apps unchanged`
    return result
  } catch (err) {
    if (err instanceof Stop) {
      result = err.result
      message = err.message
      title = err.title
    } else if (USER_ERRORS.some((E) => err instanceof E)) {
      result = session && (session as Pm2Session).sent.length > 0 ? 'failed' : 'aborted'
      message = (err as Error).message
      title = result === 'aborted' ? 'Deploy refused' : 'Deploy failed'
    } else {
      result = session && (session as Pm2Session).sent.length > 0 ? 'failed' : 'aborted'
      message = `Unexpected error: ${(err as Error)?.stack ?? String(err)}`
      title = 'Unexpected error'
    }
    // The daemon went away under the deploy: say so, instead of blaming own processes or pm2.
    const waitMs = sawStopping ? 10_000 : result === 'failed' ? 2000 : 0
    if (session && inputs && (await daemonWentAway(inputs.pm2Home, { waitMs }))) {
      daemonGone = true
      result = (session as Pm2Session).sent.length > 0 ? 'failed' : 'aborted'
      message = daemonGoneMessage(inputs.pm2Home, (session as Pm2Session).sent.length)
      title = DAEMON_GONE_TITLE
    }
    return result
  } finally {
    const s = session as Pm2Session | null
    if (s && inputs && !daemonGone) {
      try {
        after = endList ?? (await s.list())
        snapshotAfter = writeSnapshot(runDirectory(runDirTarget(inputs)), runTag, {
          schemaVersion: 1,
          label: 'after',
          takenAt: new Date().toISOString(),
          pm2Home: inputs.pm2Home,
          ownNames,
          processes: after
        })
      } catch (err) {
        warnings.push(`could not take the after snapshot: ${(err as Error).message}`)
      }
    }
    const report: DeployReport = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      result,
      title,
      message,
      app: inputs?.app ?? env['INPUT_APP'] ?? '',
      environmentSuffix: inputs?.suffix ?? '',
      strategy: inputs?.strategy ?? '',
      dryRun: inputs?.dryRun ?? false,
      ownNames,
      metadata,
      plan: plan.map((c) => ({ command: describeCommand(c), why: c.why })),
      commands: (s?.sent ?? []).map((c) => ({ command: c.command, exitCode: c.exitCode, ms: c.ms, messages: c.messages })),
      checks,
      violations,
      warnings,
      processes: { before, after },
      snapshots: { before: snapshotBefore, after: snapshotAfter },
      restore: restoreHints({
        result,
        ownNames,
        before,
        after,
        afterListed: snapshotAfter !== null,
        pm2Home: inputs?.pm2Home ?? null,
        dump: inputs && (result === 'failed' || result === 'aborted') ? readDumpSummary(inputs.pm2Home) : null,
        daemonGone
      }),
      timings: { ...timings, total: Date.now() - started },
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString()
    }
    try {
      const target = inputs ? runDirTarget(inputs) : runDirTargetFromRawInputs(env)
      recorded = true
      finish(report, () => runDirectory(target), target, title, runTag, env)
    } finally {
      ;(lock as HostLock | null)?.release()
      s?.close()
      // Opened while the inputs were checked, but the run stopped before it was used.
      if (!s && opening) (await (opening as Promise<Pm2Session>).catch(() => null))?.close()
      // Removed last: a cancel while the after snapshot is taken still releases the lock.
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    }
  }
}

function finish(report: DeployReport, reportDir: () => string, target: RunDirTarget, title: string, runTag: string, env: NodeJS.ProcessEnv): void {
  let reportFile = ''
  try {
    const dir = reportDir()
    reportFile = path.join(dir, `pm2-safe-deploy-${runTag}-report.json`)
    fs.writeFileSync(reportFile, JSON.stringify(report, null, 2) + '\n', { mode: 0o600 })
  } catch (err) {
    core.warning(`could not write the report: ${(err as Error).message}`)
  }
  // The default dir keeps the newest runs only; this run's is never removed.
  if (reportFile && target.isDefault) {
    try {
      pruneRuns(target.snapshotDir, path.dirname(reportFile))
    } catch (err) {
      core.warning(`could not remove old runs from ${target.snapshotDir}: ${(err as Error).message}`)
    }
  }
  // Every attempt is recorded, also one refused for invalid inputs: the audit path comes from the raw inputs.
  const auditTarget = resolveAuditTarget(env)
  const auditProblem = tryAppendAudit(
    auditTarget,
    buildAuditRecord({
      ...report,
      time: report.finishedAt,
      metadata:
        report.metadata ??
        collectMetadata(env, { actionVersion: ACTION_VERSION, pm2CliVersion: null, pm2DaemonVersion: null, pm2Home: target.pm2Home, pm2ReadPath: null }),
      report: reportFile || null,
      snapshots: report.snapshots
    })
  )
  if (auditProblem) report.warnings.push(auditProblem)
  for (const w of report.warnings) core.warning(w)
  core.info('')
  core.info(renderLogVerdict(report))
  if (process.env.GITHUB_STEP_SUMMARY) {
    try {
      fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderSummary(report))
    } catch (err) {
      core.warning(`could not write the job summary: ${(err as Error).message}`)
    }
  }
  core.setOutput('result', report.result)
  core.setOutput('own-processes', JSON.stringify(report.ownNames))
  core.setOutput('violations', String(report.violations.length))
  core.setOutput('snapshot-before', report.snapshots.before ?? '')
  core.setOutput('snapshot-after', report.snapshots.after ?? '')
  core.setOutput('report', reportFile)
  if (report.result === 'aborted' || report.result === 'failed') {
    const annotation = renderAnnotation(report)
    core.setFailed(annotation?.message ?? report.message, { title: annotation?.title ?? `pm2-safe-deploy: ${title || report.result}` })
  }
}

function showLogs(names: readonly string[], processes: readonly ProcessRecord[], lines: number): void {
  for (const name of names) {
    const mine = processes.filter((q) => q.name === name)
    if (mine.length === 0) continue
    core.startGroup(`Last ${lines} log lines of ${name}`)
    // Cluster instances may each have their own files; merged logs are shown once.
    const shown = new Set<string>()
    for (const p of mine) {
      for (const [label, file] of [
        ['out', p.outLog],
        ['error', p.errLog]
      ] as const) {
        if (!file || shown.has(file)) continue
        shown.add(file)
        core.info(`--- ${label}: ${file}`)
        for (const line of tailFile(file, lines)) core.info(line)
      }
    }
    core.endGroup()
  }
}

/** After reload/restart, a process may still run from an old release directory. */
function warnStaleCwd(processes: readonly ProcessRecord[], apps: readonly EcosystemApp[], workingDirectory: string, warnings: string[]): void {
  for (const app of apps) {
    const want = resolveAppPaths(app, workingDirectory)
    if (!want) continue
    const real = (p: string) => {
      try {
        return fs.realpathSync(p)
      } catch {
        return p
      }
    }
    for (const p of processes.filter((q) => q.name === app.name)) {
      // The running process's own cwd tells a release switched behind a symlink; PM2's pm_cwd may not.
      let actual = p.cwd ? real(p.cwd) : null
      try {
        actual = fs.readlinkSync(`/proc/${p.pid}/cwd`)
      } catch {
        // not Linux, or not ours to read: keep pm_cwd
      }
      if (actual && actual !== real(want.cwd)) {
        warnings.push(
          `${app.name} (pm_id ${p.pmId}) still runs from ${actual}, but the ecosystem file resolves to ${real(want.cwd)}: ` +
            'a stale release. Use `strategy: recreate` to start it from the new path.'
        )
      }
    }
  }
}

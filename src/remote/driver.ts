// The runner's side of a remote deploy (promise 12): the main step with `ssh-host` runs this
// instead of the local run(), the post step runs remotePost. One transport for the job's hosts,
// one SshHostDeployer per host's run, the rollout over the hosts, and the hosts' results as this step's.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as core from '@actions/core'
import { isUserError, messageOf } from '../core/errors.js'
import { md } from '../core/report/markdown.js'
import type { DeployResult } from '../core/report-schema.js'
import { failStep, OUTPUT } from '../shell/outputs.js'
import { readBundle, type Bundle } from './bundle.js'
import { SshHostDeployer, type HostRun } from './deployer.js'
import type { HostLog } from './relay.js'
import type { HostOutcome, HostSpec } from './host.js'
import { parseRemoteInputs, type RemoteInputs } from './inputs.js'
import { rollOut } from './fleet.js'
import { tellFleet } from './fleet-finish.js'
import { closeLeftMasters, findSsh, removeSshDir, SshTransport } from './ssh.js'
import { readRemoteState, saveCollected, saveRuns, saveSshDir } from './state.js'
import { uploadSource } from './upload.js'
import { printLine, warn } from '../shell/print.js'

/** The host's own outputs that are this step's too (one host); paths in them are the host's. */
const RELAYED_OUTPUTS = [OUTPUT.result, OUTPUT.ownProcesses, OUTPUT.violations, OUTPUT.snapshotBefore, OUTPUT.snapshotAfter, OUTPUT.report, OUTPUT.release] as const
/** How long a host may stay unreachable mid-deploy (PM2SD_RECONNECT_SECONDS: tests shorten it). */
const reconnectMs = () => Number(process.env.PM2SD_RECONNECT_SECONDS ?? 300) * 1000

/** The job's metadata for the host's report: GITHUB_*, GITEA_*, FORGEJO_* and the runner's name, no file paths, no tokens. */
export function jobMetadata(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !/^(GITHUB_|GITEA_|FORGEJO_|RUNNER_(NAME|OS|ARCH|ENVIRONMENT)$|CI$)/.test(k)) continue
    if (/TOKEN|SECRET|PASSWORD|KEY|_(OUTPUT|STATE|STEP_SUMMARY|ENV|PATH|WORKSPACE|EVENT_PATH)$/.test(k)) continue
    out[k] = v
  }
  return out
}

export function runTag(env: NodeJS.ProcessEnv): string {
  return `${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${env.GITHUB_JOB ?? 'job'}`
}

interface Job {
  remote: RemoteInputs
  transport: SshTransport
  /** One deployer per host's run (each keeps its own run's state), all over the one transport. */
  deployerFor(host: HostSpec | null, log: HostLog | null): SshHostDeployer
  runs: HostRun[]
}

function openJob(remote: RemoteInputs, bundle: () => Bundle): Job {
  const transport = SshTransport.open(findSsh(), process.env.RUNNER_TEMP || os.tmpdir(), remote.hosts, remote.key, remote.knownHosts.map((l) => l.text), remote.jump)
  saveSshDir(transport.dir, transport.files.controlDir)
  const runs: HostRun[] = []
  const options = {
    transport,
    knownHosts: remote.knownHosts,
    bundle,
    jump: remote.jump,
    inputs: remote.forwarded,
    upload: remote.upload,
    uploadExclude: remote.uploadExclude,
    stepEnv: remote.stepEnv,
    tag: runTag(process.env),
    metadata: jobMetadata(process.env),
    reconnectMs: reconnectMs(),
    onStarted: (run: HostRun) => {
      runs.push(run)
      saveRuns(runs)
    }
  }
  return { remote, transport, runs, deployerFor: (_host, log) => new SshHostDeployer(log ? { ...options, log } : options) }
}

/** SIGINT/SIGTERM (a cancelled job): the fleet stops each host's run under way before its switch, else lets it finish and says so; no other batch starts. */
function handleCancel(fleet: AbortController): () => void {
  let seen: NodeJS.Signals | null = null
  const on = (signal: NodeJS.Signals) => {
    if (seen) return printLine(`${signal} after ${seen}: still following the hosts' deploys`)
    seen = signal
    fleet.abort()
  }
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, on)
  return () => ['SIGINT', 'SIGTERM'].forEach((s) => process.removeListener(s, on))
}

export async function runRemote(): Promise<DeployResult> {
  let job: Job | null = null
  let collected = false
  try {
    const remote = parseRemoteInputs()
    findSsh()
    const source = remote.upload ? uploadSource(remote.upload, process.env.GITHUB_WORKSPACE || process.cwd()) : null
    if (source && fs.existsSync(path.join(source, '.git')) && !remote.uploadExclude.includes('.git')) {
      warn(`upload: ${source}/.git goes to every host, since upload-exclude does not list .git (its default): actions/checkout leaves the job's token in .git/config. Add .git to upload-exclude unless the hosts need it.`)
    }
    let bundle: Bundle | null = null
    job = openJob({ ...remote, upload: source }, () => (bundle ??= readBundle()))
    const cancel = new AbortController()
    const dispose = handleCancel(cancel)
    try {
      const runs = job.runs
      // Promise 13: in batches; with current-link and rollback-hosts, switched hosts go back when one fails.
      const end = await rollOut({
        hosts: remote.hosts,
        batches: remote.batches,
        migrate: (remote.forwarded.migrate ?? '').trim() !== '',
        release: (remote.forwarded['release-dir'] ?? '').trim() || null,
        rollbackAcross: remote.rollbackHosts && (remote.forwarded['current-link'] ?? '').trim() !== '',
        deployerFor: (host, log) => job!.deployerFor(host, log),
        cancel: cancel.signal,
        say: (line) => printLine(line),
        warn: (message) => warn(message, { title: 'Deploy cancelled' }),
        onOutcome: () => saveCollected(runs.map((r) => r.runDir))
      })
      collected = true
      if (remote.hosts.length === 1) return await publish(end.record.deploys, remote.hosts)
      await tellFleet(end)
      return end.verdict.result
    } finally {
      dispose()
    }
  } catch (err) {
    const user = isUserError(err)
    core.setOutput(OUTPUT.result, 'aborted')
    failStep(user ? messageOf(err) : `Unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, user ? 'Remote deploy refused' : 'pm2-safe-deploy failed')
    return 'aborted'
  } finally {
    if (job) {
      await job.transport.closeAll(job.remote.hosts)
      // The key is kept only while a host's result is still to be collected (by the post step).
      if (job.runs.length === 0 || collected) job.transport.dispose()
    }
  }
}

/** The overall result of the hosts: deployed only if every host is; else the first host's that was not. */
function overall(outcomes: readonly HostOutcome[], hosts: readonly HostSpec[]): DeployResult {
  const bad = outcomes.find((o) => o.result !== 'deployed' && o.result !== 'dry-run')
  if (bad) return bad.result
  return outcomes.length === hosts.length && outcomes.every((o) => o.result === 'dry-run') ? 'dry-run' : 'deployed'
}

export function hostsOutput(outcomes: readonly HostOutcome[]): string {
  return JSON.stringify(Object.fromEntries(outcomes.map((o) => [o.host.label, { result: o.result, release: o.release, previous: o.previous, report: o.report }])))
}

async function publish(outcomes: readonly HostOutcome[], hosts: readonly HostSpec[]): Promise<DeployResult> {
  const result = overall(outcomes, hosts)
  if (outcomes.length === 1 && hosts.length === 1) {
    for (const name of RELAYED_OUTPUTS) if (outcomes[0]!.outputs[name] !== undefined) core.setOutput(name, outcomes[0]!.outputs[name])
  }
  core.setOutput(OUTPUT.result, result)
  core.setOutput(OUTPUT.hosts, hostsOutput(outcomes))
  await appendSummaries(outcomes)
  for (const o of outcomes) printLine(`${o.host.label}: ${o.result}${o.release ? ` (release ${o.release})` : ''} in ${(o.ms / 1000).toFixed(1)} s`)
  if (result !== 'deployed' && result !== 'dry-run') process.exitCode = core.ExitCode.Failure
  return result
}

async function appendSummaries(outcomes: readonly HostOutcome[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  for (const o of outcomes) {
    core.summary.addRaw(`\n### ${md(o.host.label)}: ${o.result}\n\n`)
    // A host that produced no summary of its own (refused, unreachable, disk full) still says why.
    if (o.summary) core.summary.addRaw(o.summary)
    else if (o.message) core.summary.addRaw(`${md(o.message)}\n\n`)
  }
  await core.summary.write()
}

/** The post step with `ssh-host`: collects a host's result the main step missed, then removes the key and sockets. */
export async function remotePost(): Promise<void> {
  const saved = readRemoteState()
  const missed = saved.runs.filter((r) => !saved.collected.includes(r.runDir))
  try {
    if (missed.length > 0) await collectMissed(missed)
  } catch (err) {
    warn(`Could not collect the hosts' results: ${messageOf(err)}`)
  } finally {
    const left = saved.sshDir !== null && (fs.existsSync(saved.sshDir.dir) || fs.existsSync(saved.sshDir.controlDir))
    if (saved.sshDir && left) {
      await closeLeftMasters(saved.sshDir.dir)
      removeSshDir(saved.sshDir.dir, saved.sshDir.controlDir)
    }
    printLine(left ? 'Removed the ssh key, known_hosts and control sockets the main step left.' : 'The main step left no ssh key or sockets on the runner.')
  }
}

async function collectMissed(missed: readonly HostRun[]): Promise<void> {
  const remote = parseRemoteInputs()
  const job = openJob(remote, () => readBundle())
  try {
    for (const run of missed) {
      const host = remote.hosts.find((h) => h.label === run.label)
      if (!host) continue
      printLine(`${host.label}: the main step ended before the host's result was collected: collecting it now`)
      const o = await job.deployerFor(host, null).collect(host, run)
      await appendSummaries([o])
      const done = o.result === 'deployed' || o.result === 'dry-run'
      if (done) core.notice(`${host.label}: the deploy on the host ended ${o.result} after the main step stopped.`, { title: `Remote deploy ${o.result}` })
      else core.error(`${host.label}: the deploy on the host ended ${o.result} after the main step stopped. ${o.message}`, { title: `Remote deploy ${o.result}` })
      if (!done) process.exitCode = core.ExitCode.Failure
    }
  } finally {
    await job.transport.closeAll(remote.hosts)
    job.transport.dispose()
  }
}

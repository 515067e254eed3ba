// Promise 13: several `ssh-host` lines, one host at a time. The pure planner (core/rollout.ts)
// decides each step from the outcomes so far; this loop carries the steps out over a
// HostDeployer (the one-host remote deploy), and a fleet rollback of a host is that host
// deployed again, to the release it ran before, with purpose `fleet-rollback`.
import { nextStep, rolloutVerdict, type FleetVerdict, type RolloutRecord, type RolloutStep } from '../core/rollout.js'
import { asText } from '../core/untrusted.js'
import type { HostDeployer, HostOutcome, HostPurpose, HostSpec } from './host.js'

export interface FleetRun {
  /** The `ssh-host` lines, parsed, in order. */
  hosts: readonly HostSpec[]
  /** `current-link` set and `rollback-hosts: true`. */
  rollbackAcross: boolean
  deployer: HostDeployer
  /** Aborted when the runner cancels the job: the host under way finishes (promise 12), no other starts. */
  cancel: AbortSignal
  /** A line for the log, between hosts (already safe to print). */
  say(line: string): void
  /** After each host's run has ended (the post step then need not collect it). */
  onOutcome?: (outcome: HostOutcome) => void
  now?: () => number
}

export interface FleetEnd {
  verdict: FleetVerdict
  record: RolloutRecord<HostOutcome>
  /** From the outcome that stopped the rollout to the last fleet rollback's end; null when none went back. */
  rollbackMs: number | null
}

export async function rollOut(run: FleetRun): Promise<FleetEnd> {
  const now = run.now ?? Date.now
  const input = { hosts: run.hosts, rollbackAcross: run.rollbackAcross }
  const record: RolloutRecord<HostOutcome> = { deploys: [], rollbacks: [], cancelled: null }
  let stoppedAt: number | null = null
  let rolledBackAt: number | null = null
  for (;;) {
    if (run.cancel.aborted && !record.cancelled) record.cancelled = { during: null }
    const step = nextStep(input, record)
    if (step.kind === 'done') break
    announce(run, step, record)
    const outcome = await deployOne(run.deployer, step.host, purposeOf(step), now)
    run.onOutcome?.(outcome)
    if (step.kind === 'deploy') {
      record.deploys.push(outcome)
      if (run.cancel.aborted && !record.cancelled) record.cancelled = { during: step.host.label }
      if (outcome.result !== 'deployed' && outcome.result !== 'dry-run') stoppedAt = now()
    } else {
      record.rollbacks.push(outcome)
      rolledBackAt = now()
    }
    run.say(asText(`${step.host.label}: ${step.kind === 'rollback' ? 'fleet rollback ' : ''}${outcome.result}${outcome.reached ? '' : ' (not reached)'}`))
  }
  if (record.cancelled) run.say(cancelNote(record, run.hosts.length))
  const verdict = rolloutVerdict(input, record)
  return { verdict, record, rollbackMs: stoppedAt !== null && rolledBackAt !== null ? rolledBackAt - stoppedAt : null }
}

function purposeOf(step: Exclude<RolloutStep<HostSpec>, { kind: 'done' }>): HostPurpose {
  return step.kind === 'deploy' ? { kind: 'deploy' } : { kind: 'fleet-rollback', release: step.release, reason: step.reason }
}

function announce(run: FleetRun, step: Exclude<RolloutStep<HostSpec>, { kind: 'done' }>, record: RolloutRecord<HostOutcome>): void {
  const n = run.hosts.length
  if (step.kind === 'deploy') run.say(asText(`── host ${record.deploys.length + 1} of ${n}: ${step.host.label} ──`))
  else run.say(asText(`── fleet rollback of ${step.host.label}: back to ${step.release} (${step.reason}) ──`))
}

function cancelNote(record: RolloutRecord<HostOutcome>, n: number): string {
  const left = n - record.deploys.length
  const during = record.cancelled?.during
  return asText(
    `Cancelled${during ? ` during ${during}: that host finished its own run` : ''}; ${left} host(s) after it not contacted, and no host is switched back (the runner is ending the job).`
  )
}

/** One host's run; a deployer that throws still yields an outcome, so the fleet can say where every host is. */
async function deployOne(deployer: HostDeployer, host: HostSpec, purpose: HostPurpose, now: () => number): Promise<HostOutcome> {
  const started = now()
  try {
    return await deployer.deploy(host, purpose)
  } catch (err) {
    const message = `unexpected error while deploying to ${host.label}: ${err instanceof Error ? err.message : String(err)}`
    // Unknown how far it got: counted as changed, and not as switched (it is not sent back by the fleet).
    return { host, result: 'failed', reached: true, switched: false, release: null, previous: null, report: null, message, ms: now() - started, outputs: {}, summary: '' }
  }
}

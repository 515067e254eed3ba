// Promise 13: several `ssh-host` lines, in batches (one host at a time by default). The pure
// planner (core/rollout.ts) decides each step from the outcomes so far; this loop carries the
// steps out: a batch's hosts at once, each over its own HostDeployer (the one-host remote
// deploy). When a host of a batch fails, the others of that batch are cancelled before their
// switch. A fleet rollback of a host is that host deployed again, to the release it ran
// before, with purpose `fleet-rollback`; a batch's hosts go back at once.
import { describeBatches } from '../core/batches.js'
import { nextStep, rolloutVerdict, succeeded, type FleetVerdict, type RolloutInput, type RolloutRecord, type RolloutStep } from '../core/rollout.js'
import { asText } from '../core/untrusted.js'
import type { HostDeployer, HostOutcome, HostPurpose, HostSpec } from './host.js'
import { HeldHostLog } from './host-log.js'
import type { HostLog } from './relay.js'

export interface FleetRun {
  /** The `ssh-host` lines, parsed, in order. */
  hosts: readonly HostSpec[]
  /** The batches (core/batches.ts batchesOf); absent: one host at a time. */
  batches?: readonly (readonly HostSpec[])[]
  /** `migrate` is set: it runs on the first host only, before any host switches. */
  migrate?: boolean
  /** `release-dir` as given: what this run tries on every host (for the summary). */
  release?: string | null
  /** `current-link` set and `rollback-hosts: true`. */
  rollbackAcross: boolean
  /** A deployer for one host's run; `log` is set when hosts run at once (its log is held, then printed as one group). */
  deployerFor(host: HostSpec, log: HostLog | null): HostDeployer
  /** Aborted when the runner cancels the job: the hosts under way finish or stop before their switch (promise 12), no other starts. */
  cancel: AbortSignal
  /** A line for the log, between hosts (already safe to print). */
  say(line: string): void
  /** What a host's cancel did, when the job was cancelled (a warning annotation; default: say). */
  warn?: (message: string) => void
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

type Step = Exclude<RolloutStep<HostSpec>, { kind: 'done' }>

/** The phase a host's run begins when its own verification failed and it switches itself back (src/main.ts). */
const ROLLBACK_PHASE = 'Rollback'

export async function rollOut(run: FleetRun): Promise<FleetEnd> {
  const now = run.now ?? Date.now
  const input: RolloutInput<HostSpec> = { hosts: run.hosts, rollbackAcross: run.rollbackAcross, batches: run.batches, migrate: run.migrate, release: run.release ?? null }
  const record: RolloutRecord<HostOutcome> = { deploys: [], rollbacks: [], cancelled: null, halted: [] }
  const clock = { stoppedAt: null as number | null, rolledBackAt: null as number | null }
  if (run.batches?.some((b) => b.length > 1)) run.say(asText(`Fleet of ${run.hosts.length} hosts in ${describeBatches(run.batches)} (hosts-per-batch); each batch starts only when every host of the one before ended deployed.`))
  for (;;) {
    if (run.cancel.aborted && !record.cancelled) record.cancelled = { during: null }
    const step = nextStep(input, record)
    if (step.kind === 'done') break
    announce(run, step, record)
    await runStep(run, step, record, clock, now)
  }
  if (record.cancelled) run.say(cancelNote(record, run.hosts.length))
  const verdict = rolloutVerdict(input, record)
  return { verdict, record, rollbackMs: clock.stoppedAt !== null && clock.rolledBackAt !== null ? clock.rolledBackAt - clock.stoppedAt : null }
}

/** One batch (or a batch of rollbacks): its hosts at once, each over its own deployer. */
async function runStep(run: FleetRun, step: Step, record: RolloutRecord<HostOutcome>, clock: { stoppedAt: number | null; rolledBackAt: number | null }, now: () => number): Promise<void> {
  const together = step.hosts.length > 1
  const running = new Map<string, HostDeployer>()
  let halting = false
  const stopOthers = (because: string) => {
    for (const [label, d] of running) {
      record.halted!.push(label)
      void d.cancel?.().then((m) => run.say(asText(`${because}: ${m}`)))
    }
  }
  /** A host of the batch failed (its outcome, or its own rollback beginning): the others not yet switched stop now. */
  const failing = (label: string, how: string) => {
    if (!together || halting || run.cancel.aborted || step.kind !== 'deploy') return
    halting = true
    running.delete(label)
    stopOthers(`${label} ${how}, so the other hosts of batch ${step.batch} stop before their switch`)
  }
  const onCancel = () => {
    record.cancelled ??= { during: [...running.keys()].join(', ') || null }
    for (const d of running.values()) void d.cancel?.().then((m) => (run.warn ?? run.say)(m))
  }
  run.cancel.addEventListener('abort', onCancel)
  try {
    await Promise.all(
      step.hosts.map(async (item) => {
        const host = item.host
        const log = together
          ? new HeldHostLog((phase) => {
              run.say(asText(`${host.label}: ${phase}`))
              // The host's own rollback begins when its verification failed: the earliest sign of a failure.
              if (phase === ROLLBACK_PHASE) failing(host.label, 'failed its verification and began its own rollback')
            })
          : null
        const deployer = run.deployerFor(host, log)
        running.set(host.label, deployer)
        const purpose: HostPurpose = 'release' in item ? { kind: 'fleet-rollback', release: item.release, reason: step.kind === 'rollback' ? step.reason : '' } : { kind: 'deploy', skipMigrate: item.skipMigrate }
        const outcome = await deployOne(deployer, host, purpose, now)
        running.delete(host.label)
        run.onOutcome?.(outcome)
        const verb = step.kind === 'rollback' ? 'fleet rollback ' : ''
        log?.flush(asText(`${host.label}: ${verb}${outcome.result} — its log`))
        run.say(asText(`${host.label}: ${verb}${outcome.result}${outcome.reached ? '' : ' (not reached)'}`))
        if (step.kind === 'rollback') {
          record.rollbacks.push(outcome)
          clock.rolledBackAt = now()
          return
        }
        record.deploys.push(outcome)
        if (succeeded(outcome)) return
        clock.stoppedAt ??= now()
        failing(host.label, `ended ${outcome.result}`)
      })
    )
  } finally {
    run.cancel.removeEventListener('abort', onCancel)
  }
  if (run.cancel.aborted && step.kind === 'deploy') record.cancelled ??= { during: step.hosts.map((h) => h.host.label).join(', ') }
}

function announce(run: FleetRun, step: Step, record: RolloutRecord<HostOutcome>): void {
  const n = run.hosts.length
  const labels = step.hosts.map((h) => h.host.label).join(', ')
  if (step.kind === 'deploy') {
    if (step.note) run.say(asText(step.note))
    if (step.hosts.length === 1 && !run.batches?.some((b) => b.length > 1)) run.say(asText(`── host ${record.deploys.length + 1} of ${n}: ${labels} ──`))
    else run.say(asText(`── batch ${step.batch}: ${labels} (${step.hosts.length} of ${n} host(s), at once; ${record.deploys.length} done before) ──`))
  } else if (step.hosts.length === 1) run.say(asText(`── fleet rollback of ${labels}: back to ${step.hosts[0]!.release} (${step.reason}) ──`))
  else run.say(asText(`── fleet rollback of batch ${step.batch}: ${labels}, at once, each back to the release it ran before (${step.reason}) ──`))
}

function cancelNote(record: RolloutRecord<HostOutcome>, n: number): string {
  const left = n - record.deploys.length
  const during = record.cancelled?.during
  return asText(
    `Cancelled${during ? ` during ${during}: the batch under way finished or stopped before its switch` : ''}; ${left} host(s) after it not contacted, and no host is switched back (the runner is ending the job).`
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

// Promise 13: a fleet deploys in batches (one host at a time by default), stops at the first
// batch with a host that does not end deployed, and switches back the hosts it already
// switched, latest batch first, a batch's hosts at once. Pure: the plan is decided from the
// host list and the outcomes as they arrive; src/remote/fleet.ts does the I/O.
import { wavesOf, type Wave } from './batches.js'
import type { DeployResult } from './report-schema.js'

/** What the planner needs of one host's guarded deploy (src/remote/host.ts HostOutcome extends it). */
export interface HostEnd {
  host: { label: string }
  result: DeployResult
  /** Whether any connection to the host was made. */
  reached: boolean
  /** Whether this run switched the host's `current-link` and left it switched. */
  switched: boolean
  release: string | null
  previous: string | null
  report: string | null
  message: string
  ms: number
}

/**
 * The input the runner adds for a host's fleet rollback (never set by a workflow): its value, the
 * reason, opens the message of that run's report and audit line on the host, so the host's own
 * records say it was switched back by a fleet. Like every `INPUT_*`, it never reaches pm2 (promise 7).
 */
export const FLEET_ROLLBACK_INPUT = 'fleet-rollback'

export interface RolloutInput<H extends { label: string }> {
  /** The `ssh-host` lines, in order. */
  hosts: readonly H[]
  /** `current-link` set and `rollback-hosts: true`: switched hosts go back when one fails. */
  rollbackAcross: boolean
  /** The batches (core/batches.ts batchesOf); absent: one host at a time. */
  batches?: readonly (readonly H[])[]
  /** `migrate` is set: the first host deploys alone first (core/batches.ts wavesOf). */
  migrate?: boolean
  /** `release-dir` as the workflow gave it: the release this run tried on every host. */
  release?: string | null
}

/** What happened so far: the deploy of each contacted host as it ended, then each fleet rollback. */
export interface RolloutRecord<O extends HostEnd = HostEnd> {
  deploys: O[]
  rollbacks: O[]
  /** Set when the runner cancelled the job: the hosts that were running then (null: between batches). */
  cancelled: { during: string | null } | null
  /** Hosts the fleet asked to stop before their switch because another host of their batch failed. */
  halted?: string[]
}

export type RolloutStep<H> =
  | { kind: 'deploy'; batch: number; note?: string; hosts: { host: H; skipMigrate: boolean }[] }
  | { kind: 'rollback'; batch: number; hosts: { host: H; release: string }[]; reason: string }
  | { kind: 'done' }

/** A host ended well: deployed, or (with `dry-run`) planned and checked. */
export function succeeded(o: HostEnd): boolean {
  return o.result === 'deployed' || o.result === 'dry-run'
}

/** A host changed: a pm2 command was sent there (aborted and dry-run change nothing). */
function changed(o: HostEnd): boolean {
  return o.result !== 'aborted' && o.result !== 'dry-run'
}

/** The waves of the rollout: the batches, the first split when `migrate` needs its first host alone. */
export function rolloutWaves<H extends { label: string }>(input: RolloutInput<H>): Wave<H>[] {
  return wavesOf(input.batches ?? input.hosts.map((h) => [h]), input.migrate ?? false)
}

/** The batch (1-based) each host belongs to. */
export function batchOf(input: RolloutInput<{ label: string }>, label: string): number | null {
  return rolloutWaves(input).find((w) => w.hosts.some((h) => h.label === label))?.batch ?? null
}

/** The host whose outcome stopped the rollout (the first to end not deployed), if any. */
export function stoppedBy<O extends HostEnd>(record: RolloutRecord<O>): O | null {
  return record.deploys.find((o) => !succeeded(o)) ?? null
}

/** The hosts that go back when the rollout stops: each switched host that deployed, once, grouped by batch, latest batch first. */
export function rollbackWaves<O extends HostEnd>(input: RolloutInput<{ label: string }>, record: RolloutRecord<O>): { batch: number; hosts: O[] }[] {
  if (!input.rollbackAcross || record.cancelled || !stoppedBy(record)) return []
  const back = record.deploys.filter((o) => o.result === 'deployed' && o.switched && o.previous !== null)
  const byBatch = new Map<number, O[]>()
  for (const o of back) {
    const b = batchOf(input, o.host.label) ?? 0
    byBatch.set(b, [...(byBatch.get(b) ?? []), o])
  }
  return [...byBatch.entries()].sort((a, b) => b[0] - a[0]).map(([batch, hosts]) => ({ batch, hosts }))
}

/** The hosts that go back, in order (latest batch first; one host at a time: last first). */
export function rollbackOrder<O extends HostEnd>(input: RolloutInput<{ label: string }>, record: RolloutRecord<O>): O[] {
  return rollbackWaves(input, record).flatMap((w) => w.hosts)
}

/** The next thing to do: deploy the next batch, send a batch of switched hosts back, or stop. */
export function nextStep<H extends { label: string }>(input: RolloutInput<H>, record: RolloutRecord): RolloutStep<H> {
  const stop = stoppedBy(record)
  const contacted = (h: H) => record.deploys.some((o) => o.host.label === h.label)
  const wave = rolloutWaves(input).find((w) => !w.hosts.every(contacted))
  if (!stop && !record.cancelled && wave) {
    const first = input.hosts[0]?.label
    const hosts = wave.hosts.filter((h) => !contacted(h)).map((host) => ({ host, skipMigrate: host.label !== first }))
    return { kind: 'deploy', batch: wave.batch, ...(wave.note ? { note: wave.note } : {}), hosts }
  }
  if (record.cancelled || !stop) return { kind: 'done' }
  const gone = (o: HostEnd) => record.rollbacks.some((r) => r.host.label === o.host.label)
  const next = rollbackWaves(input, record).find((w) => w.hosts.some((o) => !gone(o)))
  if (!next) return { kind: 'done' }
  const hosts = next.hosts.filter((o) => !gone(o)).map((o) => ({ host: input.hosts.find((h) => h.label === o.host.label)!, release: o.previous! }))
  return { kind: 'rollback', batch: next.batch, hosts, reason: rollbackReason(stop) }
}

/** Why a host goes back, for its own audit line and report. */
export function rollbackReason(stop: HostEnd): string {
  return `fleet rollback: host ${stop.host.label} ended ${stop.result} (${firstLine(hostWords(stop.host.label, stop.message))}), so every host this run switched goes back to the release it ran before`
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0]!.trim().replace(/\.$/, '') || 'no message'
}

/** A host's verdict without the `label: result: ` it may open with (the fleet's lines name both already). */
export function hostWords(label: string, message: string): string {
  let m = message.trim()
  if (m.startsWith(`${label}: `)) m = m.slice(label.length + 2)
  return m.replace(/^(deployed|dry-run|aborted|failed|rolled-back)(: |$)/, '') || message.trim()
}

// ---------------------------------------------------------------------------------
// Where every host ends, and the fleet's result
// ---------------------------------------------------------------------------------

/** Where one host ended. */
export type HostState =
  | 'not-contacted' // after the host that stopped the rollout: no connection, no lock, no audit line
  | 'unchanged' // aborted or dry run: nothing changed on it
  | 'new' // runs this run's release (or, without current-link, this run's deploy)
  | 'previous' // back on the release it ran before, verified
  | 'failed' // changed and not healthy, on the host's own terms
  | 'rollback-failed' // switched, and its fleet rollback did not end deployed (unreachable included)

export interface HostLine {
  label: string
  state: HostState
  /** The host's result in the `hosts` output. */
  result: DeployResult
  release: string | null
  previous: string | null
  /** The newest report on the host (the rollback's when there was one). */
  report: string | null
  /** Every report this run left on the host: the deploy's, then the rollback's. */
  reports: string[]
  ms: number
  /** The host's own verdict (remote text), or why it was not contacted. */
  message: string
  /** The fleet rollback of this host, when there was one. */
  rollback: { result: DeployResult; reached: boolean; message: string } | null
  /** Its batch (1-based). */
  batch: number | null
  /** The release this run tried on it (`release-dir` as given); null when not contacted or none. */
  tried: string | null
  /** Why it ended so, for the person on call: failed here, sent back because another host failed, never contacted, … */
  why: string
}

export interface FleetVerdict {
  result: DeployResult
  message: string
  /** An annotation title for a result that fails the job; empty when deployed. */
  title: string
  hosts: HostLine[]
  /** The host that stopped the rollout and its cause line (what its app logged, else its verdict). */
  cause: { host: string; line: string } | null
}

type BareLine = Omit<HostLine, 'batch' | 'tried' | 'why'>

function lineOf(label: string, deploy: HostEnd | undefined, rollback: HostEnd | undefined, wentBack: boolean): BareLine {
  if (!deploy) {
    return { label, state: 'not-contacted', result: 'aborted', release: null, previous: null, report: null, reports: [], ms: 0, message: 'not contacted: the rollout stopped before this host', rollback: null }
  }
  const reports = [deploy.report, rollback?.report ?? null].filter((r): r is string => r !== null)
  const base = { label, previous: deploy.previous, report: reports.at(-1) ?? null, reports, ms: deploy.ms + (rollback?.ms ?? 0), message: hostWords(label, deploy.message), rollback: rollback ? { result: rollback.result, reached: rollback.reached, message: hostWords(label, rollback.message) } : null }
  if (rollback) {
    const back = rollback.result === 'deployed'
    // Not reached: nothing changed there, so it still runs what its deploy left.
    const release = rollback.reached ? rollback.release : deploy.release
    return { ...base, state: back ? 'previous' : 'rollback-failed', result: back ? 'rolled-back' : 'failed', release }
  }
  if (!changed(deploy)) return { ...base, state: 'unchanged', result: deploy.result, release: deploy.release }
  if (deploy.result === 'rolled-back') return { ...base, state: 'previous', result: 'rolled-back', release: deploy.release }
  if (deploy.result === 'failed') return { ...base, state: 'failed', result: 'failed', release: deploy.release }
  // Deployed with no switch: the release it ran before, reloaded and verified, when the fleet went back.
  const onPrevious = wentBack && !deploy.switched && deploy.release !== null && deploy.release === deploy.previous
  return { ...base, state: onPrevious ? 'previous' : 'new', result: 'deployed', release: deploy.release }
}

/** Why a host ended so, in a few words: the column the person on call reads first. */
function whyOf(line: BareLine, deploy: HostEnd | undefined, stop: HostEnd | null, record: RolloutRecord, stopBatch: number | null): string {
  const cause = (o: HostEnd) => firstLine(causeOf(o))
  if (!deploy) {
    if (record.cancelled) return 'never contacted: the job was cancelled before its batch'
    return `never contacted: the rollout stopped${stopBatch !== null ? ` in batch ${stopBatch}` : ''}${stop ? `, when ${stop.host.label} failed` : ''}`
  }
  const halted = (record.halted ?? []).includes(line.label)
  if (record.cancelled) {
    const during = (record.cancelled.during ?? '').split(', ').includes(line.label)
    if (during && !changed(deploy)) return 'stopped before its switch: the job was cancelled'
    if (succeeded(deploy)) return during ? 'finished its run after the cancel (it was past its switch); nothing is sent back after a cancel' : 'deployed before the cancel; nothing is sent back after a cancel'
  }
  if (deploy === stop) return `failed here: ${cause(deploy)}`
  if (line.rollback) {
    const sent = `sent back because ${stop?.host.label ?? 'another host'} failed`
    if (line.state === 'previous') return sent
    return line.rollback.reached ? `${sent}, and its rollback ended ${line.rollback.result}: ${firstLine(line.rollback.message)}` : `${sent}, but it was unreachable for its rollback`
  }
  if (halted && !changed(deploy)) return `stopped before its switch because ${stop?.host.label ?? 'another host'} of its batch failed`
  if (!succeeded(deploy)) return `failed here: ${cause(deploy)}`
  if (deploy.result === 'dry-run') return 'dry run: nothing changed'
  if (line.state === 'previous') return `back on its previous release${stop ? ` because ${stop.host.label} failed` : ''}`
  if (stop && deploy.switched && deploy.previous === null) return 'deployed; it had no previous release to go back to'
  if (stop) return 'deployed, and not sent back (rollback-hosts is off, or there is no current-link)'
  if (record.cancelled) return 'deployed before the cancel'
  return 'deployed and verified'
}

/** The host that stopped the rollout only ended so because the job was cancelled while it ran (not a failure of its own). */
function stoppedByCancel(record: RolloutRecord, stop: HostEnd): boolean {
  return record.cancelled !== null && !changed(stop) && (record.cancelled.during ?? '').split(', ').includes(stop.host.label)
}

/** A host's cause line: the line its failing app logged (`<name> logged: …`) when there is one, else its verdict. */
export function causeOf(o: HostEnd): string {
  const words = hostWords(o.host.label, o.message)
  const logged = words.split(/\r?\n/).find((l) => / logged: /.test(l))
  return logged?.trim() ?? words
}

/** Every host's end and the fleet's result (SPEC promise 13). */
export function rolloutVerdict(input: RolloutInput<{ label: string }>, record: RolloutRecord): FleetVerdict {
  const stop = stoppedBy(record)
  const wentBack = input.rollbackAcross && stop !== null && !record.cancelled
  const stopBatch = stop ? batchOf(input, stop.host.label) : null
  const hosts = input.hosts.map((h): HostLine => {
    const deploy = record.deploys.find((o) => o.host.label === h.label)
    const bare = lineOf(h.label, deploy, record.rollbacks.find((o) => o.host.label === h.label), wentBack)
    const tried = deploy ? (input.release ?? null) : null
    return { ...bare, batch: batchOf(input, h.label), tried, why: whyOf(bare, deploy, stop, record, stopBatch) }
  })
  const result = combinedResult(hosts)
  return { result, hosts, message: fleetMessage(input, record, hosts, result), title: titleOf(result, record), cause: stop && result !== 'deployed' && !stoppedByCancel(record, stop) ? { host: stop.host.label, line: firstLine(causeOf(stop)) } : null }
}

/** `deployed` only if every host is; `aborted` if none changed; `rolled-back` if every changed host is back; else `failed`. */
export function combinedResult(hosts: readonly HostLine[]): DeployResult {
  if (hosts.length > 0 && hosts.every((h) => h.result === 'deployed')) return 'deployed'
  if (hosts.length > 0 && hosts.every((h) => h.result === 'dry-run')) return 'dry-run'
  const touched = hosts.filter((h) => h.state !== 'not-contacted' && h.state !== 'unchanged')
  if (touched.length === 0) return 'aborted'
  if (touched.every((h) => h.state === 'previous')) return 'rolled-back'
  return 'failed'
}

function titleOf(result: DeployResult, record: RolloutRecord): string {
  if (result === 'deployed' || result === 'dry-run') return ''
  if (record.cancelled) return 'Fleet deploy cancelled'
  if (result === 'aborted') return 'Fleet deploy refused'
  if (result === 'rolled-back') return 'Fleet rolled back'
  return 'Fleet left on mixed releases'
}

/** What one host runs now, in words. */
export function describeState(h: HostLine): string {
  const runs = (r: string | null) => (r ? ` (runs ${r})` : '')
  switch (h.state) {
    case 'not-contacted':
      return 'not contacted'
    case 'unchanged':
      return h.result === 'dry-run' ? 'dry run, nothing changed' : `unchanged: ${h.result}${runs(h.release)}`
    case 'new':
      if (!h.release) return 'deployed'
      return `runs the new release ${h.release}${h.previous === null ? ' (there was no previous release to go back to)' : ''}`
    case 'previous':
      return h.previous ? `back on its previous release ${h.previous}, verified` : 'back on its previous processes, verified'
    case 'failed':
      return `failed${runs(h.release)}`
    case 'rollback-failed':
      return `${h.rollback?.reached ? `its rollback ended ${h.rollback.result}` : 'unreachable for its rollback'}${runs(h.release)}`
  }
}

function fleetMessage(input: RolloutInput<{ label: string }>, record: RolloutRecord, hosts: HostLine[], result: DeployResult): string {
  const n = hosts.length
  const states = hosts.map((h) => `${h.label}: ${describeState(h)}`).join('; ')
  const stop = stoppedBy(record)
  const notContacted = hosts.filter((h) => h.state === 'not-contacted').map((h) => h.label)
  const after = notContacted.length > 0 ? ` Not contacted: ${notContacted.join(', ')}.` : ''
  if (record.cancelled) {
    const during = record.cancelled.during ? ` during ${record.cancelled.during}` : ''
    return `Cancelled${during}: the rollout stopped after the batch under way, and no host was switched back.${after} Hosts: ${states}.`
  }
  if (result === 'deployed') return `${n} host(s) deployed, ${pace(input)}.`
  if (result === 'dry-run') return `Dry run on ${n} host(s): nothing changed on any.`
  const cause = stop ? `${stop.host.label} ended ${stop.result}: ${firstLine(hostWords(stop.host.label, stop.message))}.` : ''
  if (result === 'aborted') return `${cause} Nothing changed on any host.${after}`.trim()
  // In the order they went back: the latest batch first.
  const back = record.rollbacks.filter((r) => hosts.some((h) => h.label === r.host.label && h.state === 'previous')).map((r) => r.host.label)
  if (result === 'rolled-back') {
    const went = back.length > 0 ? ` Switched back and verified, latest first: ${back.join(', ')}.` : ''
    return `${cause}${went}${after} Every host this run changed is back on its previous release.`
  }
  const why = input.rollbackAcross ? '' : ' No host was switched back (rollback-hosts is off, or there is no current-link).'
  return `${cause}${why} The fleet is on mixed releases. Hosts: ${states}.${after}`
}

/** How the fleet went, in words: one at a time, or in batches. */
function pace(input: RolloutInput<{ label: string }>): string {
  const waves = rolloutWaves(input)
  if (waves.every((w) => w.hosts.length === 1)) return 'one at a time, each verified before the next'
  return `in ${waves.length} batch(es) of ${waves.map((w) => w.hosts.length).join(', ')} host(s), each batch verified before the next`
}

// Promise 4: own processes end online and stay up (same pid, same restart count) for
// `stable-seconds`, every health URL answers 2xx, all within `timeout-seconds`. PM2's
// exit code says nothing about this, and a crash-looping app stays "online" between
// crashes, so only watching tells. Fails at the first sign of trouble.
import type { ProcessRecord } from './process-record.js'
import { maskUrl } from './mask-url.js'

export interface VerifyOptions {
  ownNames: readonly string[]
  /** Instances each own name must have; names not here need at least one. */
  expectedCounts: ReadonlyMap<string, number>
  stableSeconds: number
  timeoutSeconds: number
  healthUrls: readonly string[]
  pollMs?: number
  list: () => Promise<ProcessRecord[]>
  /** Status of a health URL (shell/health.ts); throws when it does not answer. */
  fetchStatus: (url: string) => Promise<number>
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

export interface VerifyResult {
  ok: boolean
  reason: string
  /** Own names that misbehaved, for their logs. */
  failing: string[]
  processes: ProcessRecord[]
  healthy: Record<string, number | string>
  ms: number
}

const BAD = new Set(['errored', 'stopped', 'stopping', 'waiting restart', 'one-launch-status'])

/** One look at the own processes: a hard failure, not yet ready, or ready. */
export function assessOwn(
  processes: readonly ProcessRecord[],
  ownNames: readonly string[],
  expectedCounts: ReadonlyMap<string, number>
): { state: 'failed'; reason: string; failing: string[] } | { state: 'waiting'; reason: string } | { state: 'ready' } {
  const failing: string[] = []
  const reasons: string[] = []
  const waiting: string[] = []
  for (const name of ownNames) {
    const mine = processes.filter((p) => p.name === name)
    const bad = mine.filter((p) => BAD.has(p.status))
    if (bad.length > 0) {
      failing.push(name)
      reasons.push(`${name} is ${[...new Set(bad.map((p) => p.status))].join('/')}`)
      continue
    }
    const want = expectedCounts.get(name) ?? 1
    const online = mine.filter((p) => p.status === 'online').length
    if (mine.length === 0) waiting.push(`${name} has no process`)
    else if (online < want) waiting.push(`${name} has ${online}/${want} online`)
  }
  if (failing.length > 0) return { state: 'failed', reason: reasons.join('; '), failing }
  if (waiting.length > 0) return { state: 'waiting', reason: waiting.join('; ') }
  return { state: 'ready' }
}

/** A process as it was when the stable window started. */
interface Seen {
  pid: number
  restarts: number
  name: string
  at: number
}

/**
 * Own processes that changed since the window started: a new pid, more restarts, a
 * fall from online, or gone. A change of an app that was up is a crash loop.
 */
export function changedSince(baseline: ReadonlyMap<number, Seen>, mine: readonly ProcessRecord[], now: number): { names: string[]; detail: string[] } {
  const names = new Set<string>()
  const detail: string[] = []
  for (const [pmId, b] of baseline) {
    const p = mine.find((q) => q.pmId === pmId)
    const up = ((now - b.at) / 1000).toFixed(1)
    if (!p) {
      names.add(b.name)
      detail.push(`${b.name} (pm_id ${pmId}) disappeared after ${up} s: something deleted it`)
    } else if (p.restarts !== b.restarts || (p.pid !== b.pid && p.pid > 0) || p.status === 'waiting restart') {
      names.add(b.name)
      detail.push(`crash loop: ${b.name} (pm_id ${pmId}) restarted ${up} s after coming up (pid ${b.pid} → ${p.pid || '-'}, restarts ${b.restarts} → ${p.restarts}, now ${p.status})`)
    } else if (p.status !== 'online') {
      names.add(b.name)
      detail.push(`${b.name} (pm_id ${pmId}) went down ${up} s after coming up (now ${p.status})`)
    }
  }
  for (const p of mine) {
    if (!baseline.has(p.pmId)) {
      names.add(p.name)
      detail.push(`${p.name} (pm_id ${p.pmId}) appeared after the processes came up`)
    }
  }
  return { names: [...names], detail }
}

/**
 * How many instances PM2 starts for an app's `instances` setting: a number; 0 or 'max'
 * for one per CPU; -n for all CPUs but n (at least one); unset for one.
 */
export function expectedInstances(instances: number | string | null, cpus: number): number {
  if (instances === null) return 1
  const n = instances === 'max' ? 0 : Number(instances)
  if (!Number.isFinite(n)) return 1
  if (n === 0) return cpus
  if (n < 0) return Math.max(1, cpus + n)
  return n
}

/** How often to look while processes come up or a health URL is not yet 2xx. */
const BUSY_POLL_MS = 500

const is2xx = (v: number | string | undefined) => typeof v === 'number' && v >= 200 && v < 300

export async function verifyOwnHealthy(opts: VerifyOptions): Promise<VerifyResult> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const fetchStatus = opts.fetchStatus
  const pollMs = opts.pollMs ?? 500
  const started = now()
  const deadline = started + opts.timeoutSeconds * 1000
  const own = new Set(opts.ownNames)
  const healthy: Record<string, number | string> = {}
  // Set when every own process is first online; any change after that fails at once.
  let baseline: Map<number, Seen> | null = null
  let stableSince = 0
  let processes: ProcessRecord[] = []
  let lastReason = 'not checked yet'
  const result = (ok: boolean, reason: string, failing: string[] = []): VerifyResult => ({
    ok,
    reason,
    failing,
    processes: processes.filter((p) => own.has(p.name)),
    healthy,
    ms: now() - started
  })

  for (;;) {
    // Only a quiet stability window may wait the full poll interval (a crash wakes it
    // through `sleep` when events are watched); coming up and health URLs are re-checked often.
    let quiet = false
    processes = await opts.list()
    const mine = processes.filter((p) => own.has(p.name))
    if (baseline) {
      const changed = changedSince(baseline, mine, now())
      if (changed.detail.length > 0) return result(false, changed.detail.join('; '), changed.names)
    }
    const assessment = assessOwn(processes, opts.ownNames, opts.expectedCounts)
    if (assessment.state === 'failed') return result(false, assessment.reason, assessment.failing)
    if (assessment.state === 'ready') {
      if (!baseline) {
        stableSince = now()
        baseline = new Map(mine.map((p) => [p.pmId, { pid: p.pid, restarts: p.restarts, name: p.name, at: stableSince }]))
      }
      for (const url of opts.healthUrls) {
        if (is2xx(healthy[url])) continue
        try {
          healthy[url] = await fetchStatus(url)
        } catch (err) {
          const cause = (err as { cause?: { code?: string } }).cause?.code
          // An error may quote the URL (undici does, with its credentials): only the masked form is kept.
          const message = (err as Error).message.split(url).join(maskUrl(url))
          healthy[url] = cause ? `${message} (${cause})` : message
        }
      }
      const unhealthy = opts.healthUrls.filter((u) => !is2xx(healthy[u]))
      const stableFor = now() - stableSince
      if (unhealthy.length === 0 && stableFor >= opts.stableSeconds * 1000) {
        return result(true, `all own processes online and stable for ${(stableFor / 1000).toFixed(1)} s` + (opts.healthUrls.length ? ', health URLs 2xx' : ''))
      }
      quiet = unhealthy.length === 0
      lastReason =
        unhealthy.length > 0
          ? `health URL ${unhealthy.map((u) => `${maskUrl(u)} → ${healthy[u]}`).join(', ')}`
          : `stable for ${(stableFor / 1000).toFixed(1)} of ${opts.stableSeconds} s`
    } else {
      lastReason = assessment.reason
    }
    if (now() >= deadline) {
      const down = opts.ownNames.filter((n) => !processes.some((p) => p.name === n && p.status === 'online'))
      return result(false, `not healthy within timeout-seconds (${opts.timeoutSeconds} s): ${lastReason}`, down.length ? down : [...opts.ownNames])
    }
    const windowLeft = quiet ? stableSince + opts.stableSeconds * 1000 - now() : Infinity
    await sleep(Math.max(0, Math.min(quiet ? pollMs : Math.min(pollMs, BUSY_POLL_MS), deadline - now(), windowLeft)))
  }
}

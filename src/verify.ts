// Promise 4: own processes end online and stay up (same pid, same restart count) for
// `stable-seconds`, every health URL answers 2xx, all within `timeout-seconds`. PM2's
// exit code says nothing about this, and a crash-looping app stays "online" between
// crashes, so only watching tells. Fails at the first sign of trouble.
import type { ProcessRecord } from './pm2/process-list.js'

export interface VerifyOptions {
  ownNames: readonly string[]
  /** Instances each own name must have; names not here need at least one. */
  expectedCounts: ReadonlyMap<string, number>
  stableSeconds: number
  timeoutSeconds: number
  healthUrls: readonly string[]
  pollMs?: number
  list: () => Promise<ProcessRecord[]>
  fetchStatus?: (url: string) => Promise<number>
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

export async function defaultFetchStatus(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'manual' })
  await res.body?.cancel()
  return res.status
}

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

export async function verifyOwnHealthy(opts: VerifyOptions): Promise<VerifyResult> {
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const fetchStatus = opts.fetchStatus ?? defaultFetchStatus
  const pollMs = opts.pollMs ?? 500
  const started = now()
  const deadline = started + opts.timeoutSeconds * 1000
  const own = new Set(opts.ownNames)
  const healthy: Record<string, number | string> = {}
  let baseline: Map<number, { pid: number; restarts: number; name: string }> | null = null
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
    processes = await opts.list()
    const assessment = assessOwn(processes, opts.ownNames, opts.expectedCounts)
    if (assessment.state === 'failed') return result(false, assessment.reason, assessment.failing)
    if (assessment.state === 'ready') {
      const mine = processes.filter((p) => own.has(p.name))
      if (!baseline) {
        baseline = new Map(mine.map((p) => [p.pmId, { pid: p.pid, restarts: p.restarts, name: p.name }]))
        stableSince = now()
      } else {
        const moved = mine.filter((p) => {
          const b = baseline!.get(p.pmId)
          return !b || b.pid !== p.pid || b.restarts !== p.restarts
        })
        const gone = [...baseline.keys()].filter((id) => !mine.some((p) => p.pmId === id))
        if (moved.length > 0 || gone.length > 0) {
          const names = [...new Set([...moved.map((p) => p.name), ...gone.map((id) => baseline!.get(id)!.name)])]
          const detail = moved
            .map((p) => {
              const b = baseline!.get(p.pmId)
              return b ? `${p.name} (pm_id ${p.pmId}) restarted: pid ${b.pid} → ${p.pid}, restarts ${b.restarts} → ${p.restarts}` : `${p.name} (pm_id ${p.pmId}) appeared`
            })
            .concat(gone.map((id) => `${baseline!.get(id)!.name} (pm_id ${id}) disappeared`))
          return result(false, `crash loop: ${detail.join('; ')} within ${((now() - stableSince) / 1000).toFixed(1)} s of coming up`, names)
        }
      }
      for (const url of opts.healthUrls) {
        if (typeof healthy[url] === 'number' && (healthy[url] as number) >= 200 && (healthy[url] as number) < 300) continue
        try {
          healthy[url] = await fetchStatus(url)
        } catch (err) {
          healthy[url] = (err as Error).message
        }
      }
      const unhealthy = opts.healthUrls.filter((u) => !(typeof healthy[u] === 'number' && (healthy[u] as number) >= 200 && (healthy[u] as number) < 300))
      const stableFor = now() - stableSince
      if (unhealthy.length === 0 && stableFor >= opts.stableSeconds * 1000) {
        return result(true, `all own processes online and stable for ${(stableFor / 1000).toFixed(1)} s` + (opts.healthUrls.length ? ', health URLs 2xx' : ''))
      }
      lastReason =
        unhealthy.length > 0
          ? `health URL ${unhealthy.map((u) => `${u} → ${healthy[u]}`).join(', ')}`
          : `stable for ${(stableFor / 1000).toFixed(1)} of ${opts.stableSeconds} s`
    } else {
      lastReason = assessment.reason
    }
    if (now() >= deadline) {
      const failing = opts.ownNames.filter((n) => !processes.some((p) => p.name === n && p.status === 'online'))
      return result(false, `not healthy within timeout-seconds (${opts.timeoutSeconds} s): ${lastReason}`, failing.length ? failing : [...opts.ownNames])
    }
    await sleep(Math.max(0, Math.min(pollMs, deadline - now())))
  }
}

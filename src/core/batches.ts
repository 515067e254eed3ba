// Promise 13: `hosts-per-batch`, the sizes of a fleet's batches (`1, 100%`: a canary, then the
// rest), and the waves a fleet deploys in. Pure: parsed once on the runner, planned from the host list.

/** One item of `hosts-per-batch`: a count of hosts, or a percentage of all the hosts. */
export type BatchSize = { kind: 'count'; n: number } | { kind: 'percent'; p: number }

/** The list as given, parsed; or the problem, naming the item. The empty list is the default `1`. */
export function parseHostsPerBatch(text: string): { sizes: BatchSize[] } | { problem: string } {
  const items = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (items.length === 0) return { sizes: [{ kind: 'count', n: 1 }] }
  const sizes: BatchSize[] = []
  for (const item of items) {
    const size = parseItem(item)
    if (!size) return { problem: `hosts-per-batch: ${JSON.stringify(item)} is not a batch size: give a whole number of hosts (at least 1, e.g. \`2\`) or a percentage of all the hosts (more than 0%, at most 100%, e.g. \`25%\`), separated by commas, e.g. \`1, 100%\`` }
    sizes.push(size)
  }
  return { sizes }
}

function parseItem(item: string): BatchSize | null {
  const count = /^\d+$/.exec(item)
  if (count) {
    const n = Number(item)
    return Number.isSafeInteger(n) && n >= 1 ? { kind: 'count', n } : null
  }
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(item)
  if (!pct) return null
  const p = Number(pct[1])
  return p > 0 && p <= 100 ? { kind: 'percent', p } : null
}

/** How many hosts one size is on a fleet of `total`: a percentage rounded up, at least 1. */
export function hostsOf(size: BatchSize, total: number): number {
  // A tiny epsilon: 1/3 as a percentage must not round 33.333…% of 3 hosts up to 2.
  const n = size.kind === 'count' ? size.n : Math.ceil((size.p * total) / 100 - 1e-9)
  return Math.max(1, n)
}

/** The batches, in order: the sizes applied one after another, the last one repeating. */
export function batchesOf<H>(hosts: readonly H[], sizes: readonly BatchSize[]): H[][] {
  const out: H[][] = []
  for (let at = 0, i = 0; at < hosts.length; i++) {
    const n = hostsOf(sizes[Math.min(i, sizes.length - 1)]!, hosts.length)
    out.push(hosts.slice(at, at + n))
    at += n
  }
  return out
}

/** A group of hosts that deploy at once: its batch (1-based) and why it stands alone, when it does. */
export interface Wave<H> {
  batch: number
  hosts: H[]
  /** Set when the first batch was split so `migrate` runs on the first host before any other host starts. */
  note?: string
}

/**
 * The waves a fleet deploys in: one per batch, except that with `migrate` a first batch of
 * several hosts starts with its first host alone (promise 15: `migrate` runs on the first
 * host only, before any host switches), then the rest of that batch.
 */
export function wavesOf<H extends { label: string }>(batches: readonly (readonly H[])[], migrate: boolean): Wave<H>[] {
  const waves: Wave<H>[] = []
  batches.forEach((hosts, i) => {
    if (i === 0 && migrate && hosts.length > 1) {
      const note = `${hosts[0]!.label} deploys alone first: \`migrate\` runs on the first host only, and before any host switches; then the other ${hosts.length - 1} host(s) of batch 1`
      waves.push({ batch: 1, hosts: [hosts[0]!], note }, { batch: 1, hosts: hosts.slice(1) })
    } else waves.push({ batch: i + 1, hosts: [...hosts] })
  })
  return waves
}

/** The sizes in words, for the log: `1, then 3 at a time`. */
export function describeBatches(batches: readonly (readonly unknown[])[]): string {
  const sizes = batches.map((b) => b.length)
  if (sizes.every((s) => s === 1)) return 'one host at a time'
  return `${batches.length} batch(es) of ${sizes.join(', ')} host(s)`
}

// The releases of one app on one host, as its audit log tells them (promises 15 and 16): which
// directories its deploys made live, when, from which commit, and which were rolled back from.
// keep-releases prunes only these; `rollback-to: previous` picks from them. Pure: events in.

/** One audit line that recorded a release (shell/audit.ts releaseEvents), oldest first. */
export interface ReleaseEvent {
  time: string
  /** The run's result: deployed, failed, aborted, rolled-back, … */
  result: string
  link: string
  /** The release the run tried to make live. */
  target: string
  /** The release live before the run (null on a first deploy). */
  previous: string | null
  /** The release live at the end. */
  live: string | null
  switched: boolean
  rolledBack: boolean
  /** Why the run touched the release: `deploy`, `rollback-to` or `fleet-rollback`. */
  kind: string
  sha: string | null
  runId: string | null
  runUrl: string | null
}

/** One release directory as the history knows it. */
export interface KnownRelease {
  path: string
  /** The last time a run made it live and verified it (result deployed; a rollback to it counts); null if never. */
  deployedAt: string | null
  /** The commit and run of the last deploy (not rollback) that made it live and verified it. */
  sha: string | null
  runId: string | null
  runUrl: string | null
  /** The last time it was rolled back from (unhealthy, on demand or by a fleet), if after its last verified deploy. */
  rolledBackFromAt: string | null
}

/**
 * Every release this app's deploys recorded, newest verified deploy first (never verified last,
 * newest attempt first). A release rolled back from counts as such until a later verified deploy of it.
 */
export function knownReleases(events: readonly ReleaseEvent[]): KnownRelease[] {
  const byPath = new Map<string, KnownRelease & { lastSeen: number }>()
  const entry = (p: string, i: number) => {
    let e = byPath.get(p)
    if (!e) byPath.set(p, (e = { path: p, deployedAt: null, sha: null, runId: null, runUrl: null, rolledBackFromAt: null, lastSeen: i }))
    e.lastSeen = Math.max(e.lastSeen, i)
    return e
  }
  events.forEach((ev, i) => {
    const target = entry(ev.target, i)
    if (ev.previous) entry(ev.previous, i)
    if (ev.result === 'deployed' && ev.live === ev.target) {
      Object.assign(target, { deployedAt: ev.time, rolledBackFromAt: null })
      // The commit and run a release came from are its deploy's: a rollback's run is of whatever commit the workflow ran at.
      if (ev.kind === 'deploy') Object.assign(target, { sha: ev.sha, runId: ev.runId, runUrl: ev.runUrl })
      // Going back to an earlier release on purpose undoes the one that was live.
      if (ev.kind !== 'deploy' && ev.previous && ev.previous !== ev.target) entry(ev.previous, i).rolledBackFromAt = ev.time
    }
    // An unhealthy release switched back from, automatically.
    if (ev.rolledBack && ev.switched) target.rolledBackFromAt = ev.time
  })
  return [...byPath.values()]
    .sort((a, b) => (a.deployedAt && b.deployedAt ? b.deployedAt.localeCompare(a.deployedAt) : a.deployedAt ? -1 : b.deployedAt ? 1 : b.lastSeen - a.lastSeen))
    .map(({ lastSeen: _lastSeen, ...r }) => r)
}

/** What `rollback-to: previous` resolves to on one host: a release, or why there is none. */
export type PreviousChoice = { path: string } | { refused: string; title: string }

/** The events of one link, oldest first (an app may have moved its link; the old one's history is not this one's). */
export function eventsOfLink(events: readonly ReleaseEvent[], link: string): ReleaseEvent[] {
  return events.filter((e) => e.link === link)
}

/** Why a release the history knows cannot be `previous`; null when it can. */
function notACandidate(k: KnownRelease, live: string, wentLiveAt: string | null, exists: (p: string) => boolean): string | null {
  if (k.path === live) return 'live'
  if (k.deployedAt === null) return 'never deployed and verified'
  if (k.rolledBackFromAt !== null) return `rolled back from at ${k.rolledBackFromAt}`
  if (wentLiveAt !== null && k.deployedAt >= wentLiveAt) return `deployed at ${k.deployedAt}, after the live release went live`
  if (!exists(k.path)) return 'no longer on disk'
  return null
}

/**
 * Promise 16: the newest release the audit log records as deployed and verified before the live one
 * went live, that still exists, and that was not rolled back from since. `events` are this link's
 * (eventsOfLink), oldest first; `live` is the real path the link names now. A link switched by hand
 * (the live release is not the one the log last left live) is refused: the log cannot say what came before.
 */
export function previousRelease(events: readonly ReleaseEvent[], live: string | null, exists: (p: string) => boolean): PreviousChoice {
  const title = 'No release to roll back to'
  if (live === null) return { title, refused: 'current-link names no release (missing or dangling): there is nothing to roll back from; pass a release directory to `rollback-to`' }
  const last = events.at(-1)
  if (!last) return { title, refused: `the audit log records no deploy behind this current-link, so \`previous\` is unknown: pass a release directory to \`rollback-to\` instead` }
  if (last.live !== live) {
    return {
      title: 'Live release switched by hand',
      refused: `current-link names ${live}, but the audit log's last run left ${last.live ?? 'no release'} live: the link was switched outside this action, so \`previous\` is unknown. Pass the release directory to make live to \`rollback-to\` instead`
    }
  }
  const known = knownReleases(events)
  const wentLiveAt = known.find((k) => k.path === live)?.deployedAt ?? last.time
  const why = known.map((k) => ({ k, no: notACandidate(k, live, wentLiveAt, exists) }))
  const chosen = why.find((w) => w.no === null)
  if (chosen) return { path: chosen.k.path }
  const held = why.map((w) => `${w.k.path} (${w.no})`).join('; ')
  return { title, refused: `no earlier release can be made live: the audit log holds ${held}. Pass a release directory to \`rollback-to\` instead` }
}

/** One row of the releases table (promise 16): a release directory kept on the host, newest first. */
export interface KeptRelease {
  path: string
  /** `live`, `previous` (what `rollback-to: previous` would choose), `rolled back from`, or null. */
  state: 'live' | 'previous' | 'rolled back from' | null
  deployedAt: string | null
  sha: string | null
  runId: string | null
  runUrl: string | null
}

/**
 * The release directories on disk (`onDisk`: real paths, with mtimes), with what the history
 * says of each: newest verified deploy first, then those the log never verified, newest by mtime.
 */
export function keptReleases(
  events: readonly ReleaseEvent[],
  live: string | null,
  onDisk: readonly { path: string; mtimeMs: number }[]
): KeptRelease[] {
  const known = new Map(knownReleases(events).map((k) => [k.path, k]))
  const disk = new Set(onDisk.map((d) => d.path))
  const choice = previousRelease(events, live, (p) => disk.has(p))
  const previous = 'path' in choice ? choice.path : null
  const rows = onDisk.map((d) => {
    const k = known.get(d.path)
    const state: KeptRelease['state'] = d.path === live ? 'live' : d.path === previous ? 'previous' : k?.rolledBackFromAt ? 'rolled back from' : null
    return { row: { path: d.path, state, deployedAt: k?.deployedAt ?? null, sha: k?.sha ?? null, runId: k?.runId ?? null, runUrl: k?.runUrl ?? null }, mtimeMs: d.mtimeMs }
  })
  rows.sort((a, b) => {
    const x = a.row.deployedAt
    const y = b.row.deployedAt
    if (x && y && x !== y) return y.localeCompare(x)
    if (x && !y) return -1
    if (!x && y) return 1
    return b.mtimeMs - a.mtimeMs || b.row.path.localeCompare(a.row.path)
  })
  return rows.map((r) => r.row)
}

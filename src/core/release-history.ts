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
  /** The last time a run made it live and verified it (result deployed); null if never. */
  deployedAt: string | null
  /** The commit and run of that deploy. */
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
      Object.assign(target, { deployedAt: ev.time, sha: ev.sha, runId: ev.runId, runUrl: ev.runUrl, rolledBackFromAt: null })
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

// Release switches as data (promises 4 and 10): where a path through the link will
// lead after the switch, which recorded releases a prune may remove, and which own
// processes still run something other than what the ecosystem file says. Pure.
import path from 'node:path'

/**
 * `p` as it will resolve once `link` names `releaseDir`: the link itself, or any path
 * below it, is re-rooted in the release; every other path is returned unchanged.
 * `realLink` is the link's path with its parent directory resolved, for paths that
 * reach the link through another symlinked parent.
 */
export function throughLinkAfterSwitch(p: string, link: string, releaseDir: string, realLink: string = link): string {
  for (const l of new Set([link, realLink])) {
    if (p === l) return releaseDir
    if (p.startsWith(l + path.sep)) return path.join(releaseDir, p.slice(l.length + 1))
  }
  return p
}

/** `p` re-rooted from one release into another (the previous release on rollback); unchanged outside `from`. */
export function intoRelease(p: string, from: string, to: string): string {
  if (p === from) return to
  if (p.startsWith(from + path.sep)) return path.join(to, p.slice(from.length + 1))
  return p
}

/** Whether `p` is `dir` or below it. */
export function isWithin(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep)
}

export interface PruneInput {
  /** The release directories this app's deploys recorded (its audit log) that still exist, newest deploy first. */
  releases: readonly string[]
  keep: number
  /** Real path live after the deploy, and the one before it (null on a first deploy). */
  live: string
  previous: string | null
  /** shared-dir and any other directory never removed, nor one inside or holding it. */
  protect: readonly string[]
  /** Real cwd and script paths of every PM2 process, own or not. */
  inUse: readonly { name: string; pmId: number; path: string }[]
}

export interface PruneDecision {
  path: string
  remove: boolean
  reason: string
}

/**
 * keep-releases: of the releases this app's deploys recorded, the `keep` most recently deployed
 * stay; the live and previous releases, shared-dir, and any directory a PM2 process runs from or
 * below stay whatever their age. `keep` 0 removes nothing. Nothing else beside them is considered.
 */
export function planPrune(input: PruneInput): PruneDecision[] {
  return [...new Set(input.releases)].map((r, i): PruneDecision => {
    if (r === input.live) return { path: r, remove: false, reason: 'the live release' }
    if (r === input.previous) return { path: r, remove: false, reason: 'the previous release (rollback target)' }
    const kept = input.protect.find((p) => isWithin(p, r) || isWithin(r, p))
    if (kept) return { path: r, remove: false, reason: `it is, holds or lies inside ${kept} (shared-dir or the live release)` }
    if (isWithin(input.live, r) || (input.previous !== null && isWithin(input.previous, r))) return { path: r, remove: false, reason: 'it holds the live or previous release' }
    const user = input.inUse.find((u) => isWithin(u.path, r))
    if (user) return { path: r, remove: false, reason: `PM2 process ${user.name} (pm_id ${user.pmId}) runs from it` }
    if (input.keep === 0) return { path: r, remove: false, reason: 'keep-releases is 0: every release is kept' }
    if (i < input.keep) return { path: r, remove: false, reason: `one of the ${input.keep} most recently deployed` }
    return { path: r, remove: true, reason: `deployed before the ${input.keep} most recent` }
  })
}

/** What the OS and PM2 say a process runs (shell/proc.ts collects it). */
export interface RunningFacts {
  pmId: number
  name: string
  pid: number
  /** /proc/<pid>/cwd: the real cwd of the live process; null when unreadable. */
  procCwd: string | null
  pmCwd: string | null
  realPmCwd: string | null
  /** pm_exec_path as PM2 keeps it, and its real path now. */
  script: string | null
  realScript: string | null
  interpreter: string | null
  /** pm_uptime: when the current OS process was spawned (ms). */
  startedAt: number | null
}

/** What the ecosystem file resolves an app to now, as real paths, and PM2's interpreter for it. */
export interface Wanted {
  /** Null when PM2 finds the script on PATH (`script: npm`): PM2 records another path, so it is not compared. */
  script: string | null
  cwd: string
  /** The file's `interpreter`; null when it sets none (PM2's own choice is not second-guessed). */
  interpreter: string | null
}

export interface StaleProcess {
  pmId: number
  name: string
  message: string
}

/** PM2 records node as `node`; a configured path to a node binary is the same choice only by that path. */
const sameInterpreter = (a: string, b: string) => a === b || path.basename(a) === b || path.basename(b) === a

/**
 * Promise 4: own processes that run something other than what the file says. A path
 * string alone proves nothing after a switch (a path through the link resolves to the
 * new release even for a process that loaded the old one), so a process spawned before
 * `switchedAt` whose app lives in `releaseDir` is stale whatever its paths say.
 */
export function staleProcesses(
  facts: readonly RunningFacts[],
  wanted: ReadonlyMap<string, Wanted>,
  opts: { switchedAt: number | null; releaseDir: string | null }
): StaleProcess[] {
  const out: StaleProcess[] = []
  for (const f of facts) {
    const want = wanted.get(f.name)
    if (!want) continue
    const why: string[] = []
    const cwd = f.procCwd ?? f.realPmCwd
    if (cwd !== null && cwd !== want.cwd) why.push(`runs from ${cwd}, the file says ${want.cwd}`)
    if (f.realScript !== null && want.script !== null && f.realScript !== want.script) why.push(`runs ${f.realScript}, the file says ${want.script}`)
    if (f.interpreter !== null && want.interpreter !== null && !sameInterpreter(f.interpreter, want.interpreter)) {
      why.push(`runs with ${f.interpreter}, the file says ${want.interpreter}`)
    }
    const inRelease = opts.releaseDir !== null && (isWithin(want.cwd, opts.releaseDir) || (want.script !== null && isWithin(want.script, opts.releaseDir)))
    if (why.length === 0 && opts.switchedAt !== null && inRelease && (f.startedAt === null || f.startedAt < opts.switchedAt)) {
      why.push(
        f.startedAt === null
          ? 'PM2 does not say when it started, so it cannot be shown to run the new release'
          : `was started ${new Date(f.startedAt).toISOString()}, before the switch to ${opts.releaseDir}: it still runs the previous release's code`
      )
    }
    if (why.length > 0) out.push({ pmId: f.pmId, name: f.name, message: `${f.name} (pm_id ${f.pmId}, pid ${f.pid}) ${why.join('; ')}` })
  }
  return out
}

// Promise 15: `release-dir` must be a release of its own. Before a byte is uploaded, linked or
// prepared into it, it is checked against everything a write there could hurt: the link, the
// live and previous releases, shared-dir, the directory that holds the releases, and every
// directory a PM2 process runs from. Pure: real paths in, the problems (each with its fix) out.
import path from 'node:path'
import { isWithin } from './release.js'

export interface ReleaseGuardInput {
  /** release-dir as a real path (its existing part resolved; it may not exist yet). */
  releaseDir: string
  /** current-link as given (absolute), and with its parent directory resolved. */
  currentLink: string
  realLink: string
  /** The release the link names now (real path); null on a first deploy. */
  live: string | null
  /** The release live before it (the rollback target); null when none is known. */
  previous: string | null
  /** shared-dir, resolved (real path of its existing part). */
  sharedDir: string
  /** The directories that hold this app's releases: the live, previous and recorded releases' parents. */
  releaseHolders: readonly string[]
  /** The real cwd and script directory of every PM2 process, own or not. */
  processDirs: readonly { name: string; pmId: number; path: string }[]
  /** An upload is about to replace a release-dir that exists already. */
  replacesExisting?: boolean
  /** The releases this app's deploys recorded (the audit log): a replaced one of these is this app's own. */
  recorded?: readonly string[]
}

/** How a path relates to release-dir, in words; null when they do not overlap. */
function overlap(releaseDir: string, other: string): 'is' | 'contains' | 'lies inside' | null {
  if (releaseDir === other) return 'is'
  if (isWithin(other, releaseDir)) return 'contains'
  if (isWithin(releaseDir, other)) return 'lies inside'
  return null
}

/** The hint for a release-dir that ends in a parent directory: a version variable that was empty. */
function emptyVariableHint(releaseDir: string): string {
  return `release-dir must name one new directory per release, e.g. ${path.join(releaseDir, '<commit sha>')}; if it ends in a variable (\`releases/\${{ env.VERSION }}\`), that variable was empty`
}

/**
 * Every reason `release-dir` cannot be written into, each naming the path and the fix; empty
 * when it is a release of its own. release-dir equal to the live release is not checked here
 * (a redeploy: nothing is written), the caller skips the stage instead.
 */
export function releaseDirProblems(g: ReleaseGuardInput): string[] {
  const out: string[] = []
  const dir = g.releaseDir
  if (path.dirname(dir) === dir) return [`release-dir: ${dir} is the root directory. ${emptyVariableHint(dir)}`]
  for (const link of new Set([g.currentLink, g.realLink])) {
    const how = overlap(dir, link)
    if (how) out.push(`release-dir: ${dir} ${how} current-link ${g.currentLink}: ${how === 'lies inside' ? 'set release-dir to the release directory itself, not a path through the link' : emptyVariableHint(dir)}`)
  }
  for (const [what, p] of [['the live release', g.live], ['the previous release (the rollback target)', g.previous]] as const) {
    if (!p) continue
    const how = overlap(dir, p)
    if (how === 'is' && what === 'the previous release (the rollback target)') {
      out.push(`release-dir: ${dir} is the previous release, kept as the rollback target: use \`rollback-to: previous\` to make it live again, or deploy into a new directory`)
    } else if (how && how !== 'is') {
      out.push(`release-dir: ${dir} ${how} ${what} ${p}: ${how === 'contains' ? emptyVariableHint(dir) : 'deploy into a new directory beside it, e.g. ' + path.join(path.dirname(p), '<commit sha>')}`)
    }
  }
  const shared = overlap(dir, g.sharedDir)
  if (shared) out.push(`release-dir: ${dir} ${shared} shared-dir ${g.sharedDir}: the files that outlive releases cannot be a release. Set release-dir to a directory of its own (e.g. releases/<commit sha>) or move \`shared-dir\``)
  for (const holder of new Set(g.releaseHolders)) {
    if (dir === holder || isWithin(holder, dir)) out.push(`release-dir: ${dir} ${dir === holder ? 'is' : 'contains'} the directory that holds the releases (${holder}). ${emptyVariableHint(dir)}`)
    else if (isWithin(dir, holder) && path.dirname(dir) !== holder) {
      out.push(`release-dir: ${dir} lies deeper inside the directory that holds the releases (${holder}): a release is a direct child of it, e.g. ${path.join(holder, '<commit sha>')}`)
    }
  }
  out.push(...processDirProblems(g))
  return out
}

/**
 * A process runs from release-dir or below it: replacing or writing there changes what it runs.
 * A new release-dir inside a process's directory is allowed (a process run from / or $HOME would
 * refuse every release), but an upload never replaces an existing directory there that this app's
 * deploys did not record as a release: it may be that app's own data (`/srv/other/node_modules`).
 */
function processDirProblems(g: ReleaseGuardInput): string[] {
  const out: string[] = []
  const dir = g.releaseDir
  const seen = new Set<string>()
  const ours = g.recorded?.includes(dir) ?? false
  for (const p of g.processDirs) {
    const how = overlap(dir, p.path)
    if (seen.has(p.path) || !how || (how === 'lies inside' && (!g.replacesExisting || ours || path.dirname(p.path) === p.path))) continue
    seen.add(p.path)
    out.push(
      how === 'lies inside'
        ? `release-dir: ${dir} exists inside ${p.path}, where PM2 process ${p.name} (pm_id ${p.pmId}) runs from, and no deploy of this app recorded it as a release: the upload would replace it. Deploy into a new directory, e.g. ${path.join(path.dirname(dir), '<commit sha>')}`
        : `release-dir: ${dir} ${how} ${p.path}, where PM2 process ${p.name} (pm_id ${p.pmId}) runs from: deploy into a new directory no process runs from, e.g. ${path.join(path.dirname(dir), '<commit sha>')}`
    )
  }
  return out
}

/**
 * The release before the live one, as the audit log tells it: the `previous` of the newest
 * run that left `live` live after switching to it; null when none recorded it.
 */
export function previousOfLive(events: readonly { live: string | null; target: string; previous: string | null; switched: boolean; rolledBack: boolean }[], live: string | null): string | null {
  if (!live) return null
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!
    if (e.live === live && e.target === live && e.switched && !e.rolledBack && e.previous !== live) return e.previous
  }
  return null
}

/** shared-dir's default (SPEC): `shared` beside the directory that holds the releases. */
export function defaultSharedDir(releaseDir: string): string {
  return path.join(path.dirname(path.dirname(releaseDir)), 'shared')
}

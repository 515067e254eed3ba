// The release made complete on disk (promise 15): a staged upload made `release-dir` (a
// complete directory renamed in, never a partial one), and each `shared` path linked from the
// release into shared-dir. Callers check every path first (core/release-guard.ts).
import fs from 'node:fs'
import path from 'node:path'
import { UserError } from '../core/errors.js'
import type { SharedPath } from '../core/shared-paths.js'

export class StageError extends UserError {}

const suffix = () => `${process.pid}-${Date.now().toString(36)}`

/** Whether `p` exists (without following a final symlink). */
export function exists(p: string): boolean {
  try {
    fs.lstatSync(p)
    return true
  } catch {
    return false
  }
}

/**
 * Makes the complete directory `staged` the release `releaseDir`: its parent is created; an
 * existing releaseDir (not live: the caller checked) is moved aside, the new one renamed in,
 * the old one removed. Across file systems (EXDEV) it is first copied into a temporary sibling.
 */
export function installStaged(staged: string, releaseDir: string): { replaced: boolean; copied: boolean } {
  const st = fs.lstatSync(staged)
  if (!st.isDirectory()) throw new StageError(`the staged upload ${staged} is not a directory`)
  fs.mkdirSync(path.dirname(releaseDir), { recursive: true })
  let source = staged
  let copied = false
  const probe = `${releaseDir}.pm2-safe-deploy-new-${suffix()}`
  try {
    fs.renameSync(staged, probe)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    fs.cpSync(staged, probe, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
    fs.rmSync(staged, { recursive: true, force: true })
    copied = true
  }
  source = probe
  const replaced = exists(releaseDir)
  const old = `${releaseDir}.pm2-safe-deploy-old-${suffix()}`
  if (replaced) fs.renameSync(releaseDir, old)
  try {
    fs.renameSync(source, releaseDir)
  } catch (err) {
    if (replaced) fs.renameSync(old, releaseDir)
    fs.rmSync(source, { recursive: true, force: true })
    throw err
  }
  if (replaced) fs.rmSync(old, { recursive: true, force: true })
  return { replaced, copied }
}

/** Removes a staged upload the run will not make live (refused, aborted, dry run, live release). */
export function discardStaged(staged: string): string | null {
  try {
    const st = fs.lstatSync(staged)
    if (!st.isDirectory()) return `${staged} is not a directory: left as it is`
    fs.rmSync(staged, { recursive: true, force: true })
    return null
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? null : (err as Error).message
  }
}

/** What linking one shared path did, for the log. */
export interface LinkedPath {
  rel: string
  /** `seeded` (the release's copy moved to shared-dir), `replaced` (the release's copy removed), `created` (a missing directory), `linked`. */
  action: 'seeded' | 'replaced' | 'created' | 'linked'
}

/**
 * Links `releaseDir/<rel>` to `sharedDir/<rel>` (SPEC `shared`): the shared path seeded from
 * the release's copy when missing, a missing directory created, a file missing in both an error.
 */
export function linkShared(releaseDir: string, sharedDir: string, p: SharedPath): LinkedPath {
  const inRelease = path.join(releaseDir, p.rel)
  const inShared = path.join(sharedDir, p.rel)
  // A parent inside the release that is a symlink could lead the link out of the release.
  // Checked before any directory is made: one made through such a symlink would be outside the release.
  const parent = path.dirname(inRelease)
  const realParent = realPathOfMaybeMissing(parent)
  if (realParent !== releaseDir && !realParent.startsWith(releaseDir + path.sep)) {
    throw new StageError(`shared: ${p.rel} leads out of the release through a symlink (${parent} → ${realParent}): a shared path must be a path inside the release`)
  }
  fs.mkdirSync(parent, { recursive: true })
  fs.mkdirSync(path.dirname(inShared), { recursive: true })
  let action: LinkedPath['action'] = 'linked'
  const releaseHas = exists(inRelease)
  if (releaseHas && fs.lstatSync(inRelease).isSymbolicLink() && fs.readlinkSync(inRelease) === inShared) return { rel: p.rel, action }
  if (!exists(inShared)) {
    if (releaseHas) {
      moveInto(inRelease, inShared)
      action = 'seeded'
    } else if (p.dir) {
      fs.mkdirSync(inShared, { recursive: true })
      action = 'created'
    } else {
      throw new StageError(
        `shared: ${p.rel} is in neither the release nor shared-dir: create ${inShared} on the host (e.g. the app's .env), ` +
          `or ship it in the release so the first deploy seeds it, or mark a directory with a trailing / (\`${p.rel}/\`) to have it created`
      )
    }
  } else if (releaseHas) {
    fs.rmSync(inRelease, { recursive: true, force: true })
    action = 'replaced'
  }
  fs.symlinkSync(inShared, inRelease)
  return { rel: p.rel, action }
}

/** Moves a path, copying across file systems. */
function moveInto(from: string, to: string): void {
  try {
    fs.renameSync(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    fs.cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
    fs.rmSync(from, { recursive: true, force: true })
  }
}

/** The real path of `p` where it exists, its existing ancestor's real path joined with the rest where not. */
export function realPathOfMaybeMissing(p: string): string {
  const missing: string[] = []
  for (let cur = path.resolve(p); ; cur = path.dirname(cur)) {
    try {
      return path.join(fs.realpathSync(cur), ...missing.reverse())
    } catch {
      if (path.dirname(cur) === cur) return path.resolve(p)
      missing.push(path.basename(cur))
    }
  }
}

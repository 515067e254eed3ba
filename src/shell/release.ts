// The release link on disk (promise 10): read which release is live, switch the link
// atomically (a new symlink renamed over the old one: readers never find it missing),
// and remove the release directories keep-releases prunes.
import fs from 'node:fs'
import { UserError } from '../core/errors.js'
import path from 'node:path'

export class ReleaseError extends UserError {}

/** The real path the link names now; null when there is no link or it dangles. */
export function liveRelease(link: string): string | null {
  try {
    if (!fs.lstatSync(link).isSymbolicLink()) return null
    return fs.realpathSync(link)
  } catch {
    return null
  }
}

/**
 * Points `link` at `target` atomically: a temporary symlink in the same directory
 * (rename is atomic only within one file system), renamed over the old link.
 * Returns the release that was live before (null on a first deploy).
 */
/** The bytes a link's name may have: its temporary sibling (switchLink) adds up to 40 and must fit in 255. */
export const MAX_LINK_NAME_BYTES = 255 - 40

export function switchLink(link: string, target: string): { previous: string | null } {
  const previous = liveRelease(link)
  const dir = path.dirname(link)
  const tmp = path.join(dir, `.${path.basename(link)}.pm2-safe-deploy-${process.pid}-${Date.now().toString(36)}`)
  try {
    fs.symlinkSync(target, tmp)
    fs.renameSync(tmp, link)
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true })
    } catch {
      // the temporary link could not be made either (the same cause): the error below says why
    }
    throw new ReleaseError(`could not point ${link} at ${target}: ${(err as Error).message}`)
  }
  return { previous }
}

/** Puts the link back as it was: at `previous`, or removed when there was none (a first deploy). */
export function restoreLink(link: string, previous: string | null): void {
  if (previous) {
    switchLink(link, previous)
    return
  }
  try {
    if (fs.lstatSync(link).isSymbolicLink()) fs.unlinkSync(link)
  } catch {
    // already gone
  }
}

/** Of recorded release paths, those that still are real directories (no symlink, nothing else), in order. */
export function existingReleases(paths: readonly string[]): string[] {
  return paths.filter((p) => {
    try {
      return fs.lstatSync(p).isDirectory() && fs.realpathSync(p) === p
    } catch {
      return false
    }
  })
}

/** Removes one release directory; the error, if any, as text (a prune failure never fails a deploy). */
export function removeRelease(dir: string): string | null {
  try {
    fs.rmSync(dir, { recursive: true, force: true })
    return null
  } catch (err) {
    return (err as Error).message
  }
}

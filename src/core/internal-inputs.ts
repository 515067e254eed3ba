// Inputs the action passes to a host's run() itself, never declared in action.yml: a user never sets them.

/** Over SSH with `upload`: the host path of the complete unpacked upload, staged under a temporary
 *  name; the host's run() makes it `release-dir` only after the release-dir checks (promise 15),
 *  never in a dry run, and removes it when the run refuses. */
export const STAGED_UPLOAD_INPUT = 'staged-upload'

/**
 * Whether `p` is where the host agent stages an upload: one directory right under
 * `…/pm2-safe-deploy/staging/`. The run moves and removes a staged upload, so any other path
 * (a `staged-upload:` a workflow set by hand) is refused, never touched.
 */
export function isStagingPath(p: string): boolean {
  const parts = p.split('/')
  return p.startsWith('/') && parts.length >= 4 && parts.at(-1) !== '' && !parts.includes('..') && !parts.includes('.') && parts.at(-2) === 'staging' && parts.at(-3) === 'pm2-safe-deploy'
}

/** Over SSH with `upload` in a dry run: `true` when the upload was skipped (a dry run uploads
 *  nothing), so a release-dir that does not exist yet is what the upload would have made. */
export const UPLOAD_SKIPPED_INPUT = 'upload-skipped'

/** On a fleet: set on every host but the first, so `migrate` runs once per deploy (promise 15). */
export const SKIP_MIGRATE_INPUT = 'skip-migrate'

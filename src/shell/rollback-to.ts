// `rollback-to: previous` (promise 16) on this host: the audit log's release events of this app and
// link, read back, and the choice made by core/release-history.ts. A refusal ends the run `aborted`.
import fs from 'node:fs'
import { DeployStop } from '../core/outcome.js'
import { eventsOfLink, previousRelease } from '../core/release-history.js'
import { releaseEvents } from './audit.js'
import type { PreviousQuery } from './inputs.js'

const isDirectory = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** The release `previous` names on this host; throws an `aborted` stop naming what the audit log holds when there is none. */
export function previousFromAuditLog(q: PreviousQuery): string {
  const events = eventsOfLink(releaseEvents(q.auditLog, q.app, q.suffix), q.link)
  const choice = previousRelease(events, q.live, isDirectory)
  if ('path' in choice) return choice.path
  const where = q.auditLog ? `audit log ${q.auditLog}` : 'no audit log (`audit-log: off`)'
  throw new DeployStop('aborted', `rollback-to: previous: ${choice.refused} (read from ${where}).`, choice.title)
}

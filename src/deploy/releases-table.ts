// The releases table (promise 16): the release directories this app's deploys recorded, with what the
// audit log says of each and of this run (its line is written after the report). Read at the end
// of every run with `current-link`, also one refused for its inputs: from the raw input then.
import fs from 'node:fs'
import path from 'node:path'
import * as core from '@actions/core'
import { messageOf } from '../core/errors.js'
import { eventsOfLink, keptReleases, type KeptRelease, type ReleaseEvent } from '../core/release-history.js'
import { releaseEvents, resolveAuditTarget } from '../shell/audit.js'
import { existingReleases, liveRelease } from '../shell/release.js'
import { releaseKindOf } from './records.js'
import type { DeployState } from './state.js'

/** This run as the audit line will record it; null when it recorded no release (or was a dry run). */
function thisRun(state: DeployState): ReleaseEvent | null {
  const r = state.release
  if (!r || state.inputs?.dryRun) return null
  const m = state.metadata
  return {
    time: new Date().toISOString(),
    result: state.outcome.result,
    link: r.link,
    target: r.target,
    previous: r.previous,
    live: r.live,
    switched: r.switched,
    rolledBack: r.rolledBack,
    kind: releaseKindOf(state),
    sha: m?.sha ?? null,
    runId: m?.runId ?? null,
    runUrl: m?.runUrl ?? null
  }
}

/** The kept releases, newest first; undefined without `current-link`, or when they could not be read (a warning says why). */
export function keptReleasesOf(state: DeployState): KeptRelease[] | undefined {
  const raw = (name: string) => core.getInput(name)
  const linkInput = state.inputs?.release?.currentLink ?? raw('current-link').trim()
  if (!linkInput) return undefined
  try {
    const link = path.resolve(state.env.GITHUB_WORKSPACE || process.cwd(), linkInput)
    const app = state.inputs?.app ?? raw('app').trim()
    const suffix = state.inputs?.suffix ?? raw('environment-suffix').trim()
    const audit = resolveAuditTarget(state.env, raw)
    const run = thisRun(state)
    const events = eventsOfLink([...releaseEvents(audit?.file ?? null, app, suffix), ...(run ? [run] : [])], link)
    const live = liveRelease(link)
    // The releases are the directories this app's deploys recorded (never shared/ or logs/ beside them), as they are on disk.
    const recorded = existingReleases([...new Set([...(live ? [live] : []), ...events.flatMap((e) => [e.target, ...(e.previous ? [e.previous] : [])])])])
    return keptReleases(events, live, recorded.map((p) => ({ path: p, mtimeMs: mtimeOf(p) })))
  } catch (err) {
    state.warnings.push(`could not list the releases kept beside ${linkInput}: ${messageOf(err)}`)
    return undefined
  }
}

function mtimeOf(p: string): number {
  try {
    return fs.statSync(p).mtimeMs
  } catch {
    return 0
  }
}

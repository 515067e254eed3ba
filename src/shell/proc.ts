// What a process really runs, read from the OS rather than PM2's record: PM2 keeps
// pm_cwd/pm_exec_path across a reload, and a path through a release link resolves to
// the new release even for a process that still runs the old one.
import fs from 'node:fs'
import type { ProcessRecord } from '../core/process-record.js'
import type { RunningFacts } from '../core/release.js'

/** The real working directory of a live process (Linux /proc); null elsewhere or when not ours to read. */
export function processCwd(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return null
  }
}

/** The real path of `p`, or `p` itself when it does not resolve (gone, or not a path). */
export function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p)
  } catch {
    return p
  }
}

/** The facts rule (c) of core/release.ts needs, for each process. */
export function runningFacts(processes: readonly ProcessRecord[]): RunningFacts[] {
  return processes.map((p) => ({
    pmId: p.pmId,
    name: p.name,
    pid: p.pid,
    procCwd: processCwd(p.pid),
    pmCwd: p.cwd,
    realPmCwd: p.cwd ? realOrSelf(p.cwd) : null,
    script: p.script,
    realScript: p.script ? realOrSelf(p.script) : null,
    interpreter: p.interpreter,
    startedAt: p.startedAt
  }))
}

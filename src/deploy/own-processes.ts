// What the job log shows about own processes beyond the verdict: the logs of failing ones,
// and processes still running from another directory than the file names.
import fs from 'node:fs'
import * as core from '@actions/core'
import type { ProcessRecord } from '../core/process-record.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { tailFile } from '../shell/logs.js'
import { resolveAppPaths } from '../shell/preflight.js'

/** The last `lines` of each failing own process's out and error logs, one group per name. */
export function showLogs(names: readonly string[], processes: readonly ProcessRecord[], lines: number): void {
  for (const name of names) {
    const mine = processes.filter((q) => q.name === name)
    if (mine.length === 0) continue
    core.startGroup(`Last ${lines} log lines of ${name}`)
    // Cluster instances may each have their own files; merged logs are shown once.
    const files = new Map<string, string>()
    for (const p of mine) {
      if (p.outLog && !files.has(p.outLog)) files.set(p.outLog, 'out')
      if (p.errLog && !files.has(p.errLog)) files.set(p.errLog, 'error')
    }
    for (const [file, label] of files) {
      core.info(`--- ${label}: ${file}`)
      for (const line of tailFile(file, lines)) core.info(line)
    }
    core.endGroup()
  }
}

const realOr = (p: string): string => {
  try {
    return fs.realpathSync(p)
  } catch {
    return p
  }
}

/** The directory a process really runs in: /proc/<pid>/cwd on Linux (PM2's pm_cwd may be stale), else pm_cwd. */
function actualCwd(p: ProcessRecord): string | null {
  try {
    return fs.readlinkSync(`/proc/${p.pid}/cwd`)
  } catch {
    return p.cwd ? realOr(p.cwd) : null
  }
}

/** After reload/restart, a process may still run from an old release directory. */
export function staleCwdWarnings(processes: readonly ProcessRecord[], apps: readonly EcosystemApp[], workingDirectory: string): string[] {
  const warnings: string[] = []
  for (const app of apps) {
    const want = resolveAppPaths(app, workingDirectory)
    if (!want) continue
    for (const p of processes.filter((q) => q.name === app.name)) {
      const actual = actualCwd(p)
      if (actual && actual !== realOr(want.cwd)) {
        warnings.push(
          `${app.name} (pm_id ${p.pmId}) still runs from ${actual}, but the ecosystem file resolves to ${realOr(want.cwd)}: ` +
            'a stale release. Use `strategy: recreate` to start it from the new path.'
        )
      }
    }
  }
  return warnings
}

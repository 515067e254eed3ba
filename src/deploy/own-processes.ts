// What the job log shows about failing own processes beyond the verdict: their last log lines.
import * as core from '@actions/core'
import type { ProcessRecord } from '../core/process-record.js'
import { tailFile } from '../shell/logs.js'
import { guarded, printLine, printUntrusted } from '../shell/print.js'

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
    // The log is the app's: inside a stop-commands guard as well as neutralised line by line.
    guarded(() => {
      for (const [file, label] of files) {
        printLine(`--- ${label}: ${file}`)
        printUntrusted(tailFile(file, lines))
      }
    })
    core.endGroup()
  }
}

// What the job log shows about failing own processes beyond the verdict: their last log
// lines, and for the report the cause each one logged (issue 17: the cause first).
import * as core from '@actions/core'
import { causeLine, cleanLogLine } from '../core/cause.js'
import type { ProcessRecord } from '../core/process-record.js'
import type { FailingRecord } from '../core/report-schema.js'
import { tailFile } from '../shell/logs.js'
import { guarded, printLine, printUntrusted } from '../shell/print.js'

/** The last `lines` of each failing own process's out and error logs, one group per name; what they said, for the report. */
export function showLogs(names: readonly string[], processes: readonly ProcessRecord[], lines: number): FailingRecord[] {
  const failing: FailingRecord[] = []
  for (const name of names) {
    const mine = processes.filter((q) => q.name === name)
    if (mine.length === 0) continue
    core.startGroup(`Last ${lines} log lines of ${name}`)
    // Cluster instances may each have their own files; merged logs are shown once.
    const files = new Map<string, 'out' | 'error'>()
    for (const p of mine) {
      if (p.outLog && !files.has(p.outLog)) files.set(p.outLog, 'out')
      if (p.errLog && !files.has(p.errLog)) files.set(p.errLog, 'error')
    }
    const logs = [...files].map(([file, stream]) => ({ stream, file, lines: tailFile(file, lines).map(cleanLogLine) }))
    // The log is the app's: inside a stop-commands guard as well as neutralised line by line.
    guarded(() => {
      for (const log of logs) {
        printLine(`--- ${log.stream}: ${log.file}`)
        printUntrusted(log.lines)
      }
    })
    core.endGroup()
    logs.sort((a, b) => (a.stream === b.stream ? 0 : a.stream === 'error' ? -1 : 1))
    const of = (stream: string) => logs.filter((l) => l.stream === stream).flatMap((l) => l.lines)
    failing.push({ name, cause: causeLine(of('error'), of('out')), logs })
  }
  return failing
}

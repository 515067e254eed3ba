// The ::error annotation for an abort or failure.
import type { DeployReport } from '../report-schema.js'
import { isSafetyAbort, nextSteps } from './verdict.js'

/** The ::error annotation for an abort or failure: a title, the cause, the first step, the restore commands. */
export function renderAnnotation(report: DeployReport): { title: string; message: string } | null {
  if (report.result !== 'aborted' && report.result !== 'failed' && report.result !== 'rolled-back') return null
  const title = `pm2-safe-deploy: ${isSafetyAbort(report) && report.result === 'failed' ? 'SAFETY ABORT' : report.title || report.result}`
  const lines = [report.message]
  const first = nextSteps(report)[0]
  if (first) lines.push(`What to do: ${first}`)
  const commands = report.restore.filter((h) => h.command).map((h) => h.command!)
  if (commands.length > 0) lines.push('Restore:', ...commands.map((c) => `  ${c}`))
  return { title, message: lines.join('\n') }
}

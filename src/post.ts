// The post step (runs.post, post-if: always(); entry post-index.ts): releases the host lock if the main
// step died while holding it. It never releases a lock another job holds, nor one
// whose main step process is still running.
import * as core from '@actions/core'
import { messageOf } from './core/errors.js'
import { shellQuote } from './core/report/shell-quote.js'
import { buildAuditRecord, resolveAuditTarget, tryAppendAudit } from './shell/audit.js'
import { describeHolder, releaseAfterMainStep, type LockHolder } from './shell/lock.js'
import { liveRelease } from './shell/release.js'
import { readLockState, readProgress, type SavedProgress } from './shell/state.js'
import { printLine, warn } from './shell/print.js'

/** How far the killed main step got, from what it saved as it went: the record says what to check. */
export function progressNote(p: SavedProgress, live: (link: string) => string | null = liveRelease): string {
  const parts: string[] = []
  if (p.commandsStarted.length === 0) parts.push('It had sent no pm2 command.')
  else parts.push(`pm2 commands it started (the last may not have finished): ${p.commandsStarted.join('; ')}. Check the processes of this app.`)
  const sw = p.releaseSwitch
  if (sw) {
    const now = live(sw.link)
    const was = sw.previous ?? 'nothing (a first deploy)'
    if (now === sw.target && now !== sw.previous) {
      parts.push(
        `A release switch was half done: ${sw.link} names ${sw.target} (was ${was}), but the processes may still run the previous release. ` +
          `A new deploy of ${sw.target} keeps the release its processes still run as the one to roll back to; to go back by hand: ${sw.previous ? `ln -sfn -- ${shellQuote(sw.previous)} ${shellQuote(sw.link)}` : `rm -- ${shellQuote(sw.link)}`}.`
      )
    } else {
      parts.push(`It had begun a release switch of ${sw.link} to ${sw.target} (was ${was}); the link now names ${now ?? 'nothing'}.`)
    }
  }
  return parts.join(' ')
}

/** A main step killed outright (SIGKILL) wrote no audit record: the post step writes one for it. */
function auditKilledMainStep(holder: LockHolder, progress: SavedProgress, note: string): void {
  const problem = tryAppendAudit(
    resolveAuditTarget(process.env, (name) => core.getInput(name)),
    buildAuditRecord({
      time: new Date().toISOString(),
      result: 'failed',
      message:
        `The main step (pid ${holder.pid}, run ${holder.runId ?? '?'}) died holding the host lock; the post step released it. ${note}`,
      app: holder.app,
      environmentSuffix: holder.suffix,
      strategy: core.getInput('strategy'),
      dryRun: false,
      ownNames: [],
      commands: [],
      violations: [],
      metadata: null,
      report: null,
      snapshots: { before: progress.snapshotBefore, after: null }
    })
  )
  if (problem) warn(problem)
}

export async function run(): Promise<void> {
  const saved = readLockState()
  if (!saved) {
    printLine('This job took no host lock: nothing to release.')
    return
  }
  const { file, token } = saved
  try {
    const r = releaseAfterMainStep(file, token)
    switch (r.outcome) {
      case 'released': {
        const progress = readProgress()
        const note = progressNote(progress)
        auditKilledMainStep(r.holder, progress, note)
        warn(
          `The main step ended without releasing the host lock ${file} (killed, or the job was cancelled): released it. ` +
            `Check the processes of this app: the deploy may be half done. ${note}`
        )
        break
      }
      case 'holder-running':
        warn(`The main step's process (pid ${r.holder.pid}) still runs and holds the host lock ${file}: left alone; it is released when that process ends.`)
        break
      case 'not-held':
        printLine(`Host lock ${file}: ${r.detail}${r.holder ? ` (${describeHolder(r.holder)})` : ''}; nothing to release.`)
        break
    }
  } catch (err) {
    warn(`Could not check the host lock ${file}: ${messageOf(err)}`)
  }
}


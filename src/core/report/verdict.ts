// The verdict: what happened, in one line, and what the person reading the job should do next.
import type { DeployReport } from '../report-schema.js'
import { DAEMON_GONE_TITLE } from './daemon-gone.js'

export function isSafetyAbort(report: Pick<DeployReport, 'message' | 'violations'> & { title?: string }): boolean {
  // Other apps that went down with a vanished daemon were not changed by anyone's deploy.
  if (report.title === DAEMON_GONE_TITLE) return false
  return report.message.startsWith('SAFETY ABORT') || report.violations.length > 0
}

/** The one-line verdict: what happened. */
export function verdictHeadline(report: DeployReport): { icon: string; text: string } {
  const target = `${report.app}${report.environmentSuffix}`
  switch (report.result) {
    case 'deployed':
      if (report.release?.kind === 'rollback-to') return { icon: '⏪', text: `Rolled back on demand: ${report.release.target} is live again (${target})` }
      return { icon: '✅', text: `Deployed ${target}` }
    case 'dry-run':
      return { icon: '🔍', text: `Dry run for ${target}: nothing changed` }
    case 'aborted':
      return { icon: '⛔', text: `Aborted, nothing changed: ${report.title || 'deploy refused'} (${target})` }
    case 'failed':
      if (isSafetyAbort(report)) return { icon: '🛑', text: `SAFETY ABORT: other apps changed during the deploy of ${target}` }
      return { icon: '❌', text: `Failed: ${report.title || 'deploy failed'} (${target})` }
    case 'rolled-back':
      if (report.release?.kind === 'rollback-to') return { icon: '↩️', text: `Rollback on demand failed: ${report.release.target} was not healthy; ${report.release.live ?? 'the release live before'} serves again (${target})` }
      return { icon: '↩️', text: `Rolled back: the new release was not healthy; ${report.release?.live ?? 'the previous release'} serves again (${target})` }
  }
}

/** What the person reading the job should do next, most important first. */
export function nextSteps(report: DeployReport): string[] {
  const steps: string[] = []
  const restorable = report.restore.filter((h) => h.command)
  switch (report.result) {
    case 'deployed':
      if (report.warnings.length > 0) steps.push('Deployed, with warnings: read them below.')
      break
    case 'dry-run':
      steps.push('Nothing was changed. Run again without `dry-run: true` to send the planned commands.')
      break
    case 'aborted':
      steps.push('Nothing was changed by this job: the old processes still run. Fix the cause above and re-run the job.')
      if (report.restore.length > 0) steps.push('Yet other apps are missing or down: bring them back with the restore commands below.')
      break
    case 'failed':
      if (isSafetyAbort(report)) {
        const changed = [...new Set(report.violations.map((v) => v.name))]
        steps.push(
          restorable.length > 0
            ? `Bring back the other apps first: run the restore commands below on the host, as the user who owns the PM2 daemon.`
            : `Check the other apps now (${changed.join(', ') || 'see the table'}): \`pm2 ls\` on the host, as the daemon's user.`
        )
        steps.push(
          'Then find who changed them: every command this job sent is listed below and was checked to reach own processes only — ' +
            'look for another deploy or a person on the host at the same time, or an own app whose start script calls pm2.'
        )
      } else if (report.title === DAEMON_GONE_TITLE) {
        steps.push(
          'The PM2 daemon is gone, with every process it ran: on the host, as the user who owns it, check `ps` for apps left running as orphans, ' +
            (restorable.length > 0 ? 'then run the restore command below (`pm2 resurrect`),' : 'then start the daemon and the apps from their ecosystem files,') +
            ' and re-run this deploy. Do not run `pm2 ls` or `pm2 start` first: they start an empty daemon.'
        )
      } else {
        steps.push('Own processes were changed and are not healthy: read the cause above and the last log lines of each failing process in the log.')
        steps.push(
          report.release?.switched
            ? `The rollback did not bring the previous release back healthy: see what runs now above. \`${report.release.link}\` names ${report.release.live ?? 'nothing'}.`
            : 'To roll back, re-run the deploy of the last good commit. `pm2 save` was not run, so the saved process list is the old one.'
        )
        if (report.restore.length > 0) steps.push('Other apps are missing or down too: bring them back with the restore commands below.')
      }
      break
    case 'rolled-back':
      steps.push('The new release failed (the cause is above) and the previous release was put back and verified: the app serves the previous release.')
      steps.push('Fix the release and deploy again. `pm2 save` was not run, so the saved process list is the last good one.')
      break
  }
  return steps
}


// The post step (runs.post, post-if: always(); entry post-index.ts): releases the host lock if the main
// step died while holding it. It never releases a lock another job holds, nor one
// whose main step process is still running.
import * as core from '@actions/core'
import { messageOf } from './core/errors.js'
import { buildAuditRecord, resolveAuditTarget, tryAppendAudit } from './shell/audit.js'
import { describeHolder, releaseAfterMainStep, type LockHolder } from './shell/lock.js'
import { readLockState } from './shell/state.js'

/** A main step killed outright (SIGKILL) wrote no audit record: the post step writes one for it. */
function auditKilledMainStep(holder: LockHolder): void {
  const problem = tryAppendAudit(
    resolveAuditTarget(process.env, (name) => core.getInput(name)),
    buildAuditRecord({
      time: new Date().toISOString(),
      result: 'failed',
      message:
        `The main step (pid ${holder.pid}, run ${holder.runId ?? '?'}) died holding the host lock; the post step released it. ` +
        'Whether pm2 commands were sent is unknown: check the processes.',
      app: holder.app,
      environmentSuffix: holder.suffix,
      strategy: core.getInput('strategy'),
      dryRun: false,
      ownNames: [],
      commands: [],
      violations: [],
      metadata: null,
      report: null
    })
  )
  if (problem) core.warning(problem)
}

export async function run(): Promise<void> {
  const saved = readLockState()
  if (!saved) {
    core.info('This job took no host lock: nothing to release.')
    return
  }
  const { file, token } = saved
  try {
    const r = releaseAfterMainStep(file, token)
    switch (r.outcome) {
      case 'released':
        auditKilledMainStep(r.holder)
        core.warning(
          `The main step ended without releasing the host lock ${file} (killed, or the job was cancelled): released it. ` +
            'Check the processes of this app: the deploy may be half done.'
        )
        break
      case 'holder-running':
        core.warning(`The main step's process (pid ${r.holder.pid}) still runs and holds the host lock ${file}: left alone; it is released when that process ends.`)
        break
      case 'not-held':
        core.info(`Host lock ${file}: ${r.detail}${r.holder ? ` (${describeHolder(r.holder)})` : ''}; nothing to release.`)
        break
    }
  } catch (err) {
    core.warning(`Could not check the host lock ${file}: ${messageOf(err)}`)
  }
}


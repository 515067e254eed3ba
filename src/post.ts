// The post step (runs.post, post-if: always()): releases the host lock if the main
// step died while holding it. It never releases a lock another job holds, nor one
// whose main step process is still running.
import * as core from './runner.js'
import { describeHolder, releaseAfterMainStep } from './lock.js'
import { STATE } from './state.js'

export function runPost(): void {
  const file = core.getState(STATE.lockFile)
  const token = core.getState(STATE.lockToken)
  if (!file || !token) {
    core.info('This job took no host lock: nothing to release.')
    return
  }
  try {
    const r = releaseAfterMainStep(file, token)
    switch (r.outcome) {
      case 'released':
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
    core.warning(`Could not check the host lock ${file}: ${(err as Error).message}`)
  }
}

runPost()

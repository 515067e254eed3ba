// The post step (runs.post, post-if: always()): releases the host lock if the main
// step died while holding it. It never releases a lock another job holds.
import * as core from '@actions/core'
import { describeHolder, readLockHolder, releaseIfHeld } from './lock.js'
import { STATE } from './state.js'

export function runPost(): void {
  const file = core.getState(STATE.lockFile)
  const token = core.getState(STATE.lockToken)
  if (!file || !token) {
    core.info('No host lock was taken by this job.')
    return
  }
  const holder = readLockHolder(file)
  if (!holder) {
    core.info('The host lock was already released.')
    return
  }
  if (holder.token !== token) {
    core.info(`The host lock now belongs to another deploy (${describeHolder(holder)}): left alone.`)
    return
  }
  if (releaseIfHeld(file, token)) core.warning('The main step ended without releasing the host lock (killed?): released it.')
}

runPost()

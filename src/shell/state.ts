// The state the main step saves for the post step (core.saveState → STATE_<name>), each key
// named once. Both are saved before the lock is taken: a main step killed right after taking
// it still leaves the post step what it needs, and a token that never held the lock matches nothing.
import * as core from '@actions/core'

export const STATE = {
  lockFile: 'lock-file',
  lockToken: 'lock-token'
} as const

export interface SavedLock {
  file: string
  token: string
}

export function saveLockState(lock: SavedLock): void {
  core.saveState(STATE.lockFile, lock.file)
  core.saveState(STATE.lockToken, lock.token)
}

/** The lock the main step was about to take, or null when it took none. */
export function readLockState(): SavedLock | null {
  const file = core.getState(STATE.lockFile)
  const token = core.getState(STATE.lockToken)
  return file && token ? { file, token } : null
}

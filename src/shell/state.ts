// Names of the state the main step saves for the post step (core.saveState → STATE_<name>).
// Both are saved before the lock is taken: a main step killed right after taking it
// still leaves the post step what it needs, and a token that never held the lock
// matches nothing.
export const STATE = {
  lockFile: 'lock-file',
  lockToken: 'lock-token'
} as const

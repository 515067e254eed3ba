// Names of the state the main step saves for the post step (core.saveState → STATE_<name>).
export const STATE = {
  lockFile: 'lock-file',
  lockToken: 'lock-token'
} as const

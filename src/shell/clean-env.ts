// Promise 7: apps inherit the environment of the pm2 command that starts them, so the
// runner's own variables must not reach pm2. The user's step `env:` passes through.

/** GITHUB_* variables that name the runner's per-step files. */
const GITHUB_FILE_VARS = [
  'GITHUB_OUTPUT',
  'GITHUB_STATE',
  'GITHUB_STEP_SUMMARY',
  'GITHUB_ENV',
  'GITHUB_PATH',
  'GITHUB_EVENT_PATH'
]

/** PM2 reads these from the caller over the app's own config and the command line. */
const PM2_OVERRIDES = ['name', 'namespace', 'pm_id']

export function isRunnerOnlyVariable(key: string): boolean {
  return (
    key === 'RUNNER_TRACKING_ID' ||
    key === 'GITHUB_TOKEN' ||
    key.startsWith('INPUT_') ||
    key.startsWith('STATE_') ||
    key.startsWith('ACTIONS_') ||
    GITHUB_FILE_VARS.includes(key) ||
    PM2_OVERRIDES.includes(key)
  )
}

/** The environment for every pm2 call: the caller's, minus the runner's, with PM2_HOME set. */
export function cleanEnvironment(env: NodeJS.ProcessEnv, pm2Home: string): Record<string, string> {
  const clean: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !isRunnerOnlyVariable(key)) clean[key] = value
  }
  clean.PM2_HOME = pm2Home
  return clean
}

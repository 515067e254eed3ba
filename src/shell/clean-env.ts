// Promise 7: apps inherit the environment of the pm2 command that starts them, so the
// runner's own variables must not reach pm2 (nor, through `pm2 save`, dump.pm2). The
// user's step `env:` passes through, and so does the job's plain metadata
// (GITHUB_SHA, GITHUB_REPOSITORY, GITEA_ACTIONS, …): an app may read it, and it is
// neither a secret nor a path that stops existing when the step ends.

/** The prefixes of the forges' variables: GitHub's runner sets GITHUB_*, act_runner also GITEA_* copies, Forgejo's runner FORGEJO_*. */
export const FORGE_PREFIXES = ['GITHUB_', 'GITEA_', 'FORGEJO_'] as const

/** After a forge prefix: the runner's per-step files (fresh for each step, deleted with the job) and the event payload file. */
const STEP_FILE_NAMES = ['OUTPUT', 'STATE', 'STEP_SUMMARY', 'ENV', 'PATH', 'EVENT_PATH']

/** PM2 reads these from the caller over the app's own config and the command line. */
const PM2_OVERRIDES = ['name', 'namespace', 'pm_id']

/** A forge's per-step file path or token: `GITEA_OUTPUT`, `FORGEJO_TOKEN`, `GITEA_RUNNER_REGISTRATION_TOKEN`, … */
function isForgeStepFileOrToken(key: string): boolean {
  const prefix = FORGE_PREFIXES.find((p) => key.startsWith(p))
  if (!prefix) return false
  const rest = key.slice(prefix.length)
  return STEP_FILE_NAMES.includes(rest) || rest.endsWith('TOKEN')
}

export function isRunnerOnlyVariable(key: string): boolean {
  return (
    key === 'RUNNER_TRACKING_ID' ||
    key.startsWith('INPUT_') ||
    key.startsWith('STATE_') ||
    key.startsWith('ACTIONS_') ||
    isForgeStepFileOrToken(key) ||
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

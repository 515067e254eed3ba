// Ecosystem options that make PM2 create a process under another name than the file's
// (SPEC "Who owns what"): own names would not be the names PM2 creates, so the action
// would start processes it does not own and then miss its own.

/** The fields of an ecosystem app that rename it at start. */
export interface RenamingFields {
  name: string
  appendEnvToName: boolean
  namePrefix: string | null
}

/**
 * Why PM2 would start `app` under another name, with the fix, or null.
 * `append_env_to_name` renames only when pm2 gets `--env` (PM2's API.js:
 * `if (app.append_env_to_name && opts.env) app.name += '-' + opts.env`), so it is
 * refused only with an `ecosystem-env`; without one PM2 keeps the file's name.
 * `name_prefix` is refused whenever it is set: PM2's schema declares it as an app option
 * that makes the name `<prefix>:<name>`, and whether a PM2 version applies it is not the
 * action's to guess.
 */
export function renamingProblem(app: RenamingFields, ecosystemEnv: string | null): string | null {
  if (app.namePrefix !== null) {
    return (
      `sets \`name_prefix: '${app.namePrefix}'\`, which makes PM2 name the process "${app.namePrefix}:${app.name}", ` +
      `not the own name "${app.name}": remove \`name_prefix\` and write the whole name in \`name\``
    )
  }
  if (app.appendEnvToName && ecosystemEnv) {
    return (
      `sets \`append_env_to_name\`, so with \`ecosystem-env: ${ecosystemEnv}\` PM2 would start it as "${app.name}-${ecosystemEnv}", ` +
      `not the own name "${app.name}": remove \`append_env_to_name\` and write the whole name in the file ` +
      `(\`name: '${app.name}-${ecosystemEnv}'\`, one app entry per environment)`
    )
  }
  return null
}

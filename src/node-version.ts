// Imported first by every entry: act_runner and Forgejo's runner run the first `node` on
// the runner's PATH whatever its version (Debian 12's is 18), so an old node gets a clear
// message here instead of a failure somewhere inside the bundle. Nothing else is imported:
// ESM evaluates imports in order, so this runs before any other module of the bundle.
const MIN_MAJOR = 20
const found = process.versions.node
if (Number(found.split('.')[0]) < MIN_MAJOR) {
  const message =
    `pm2-safe-deploy needs Node ${MIN_MAJOR} or newer, but this step runs under Node ${found} (${process.execPath}). ` +
    `Fix: add an \`actions/setup-node\` step with \`node-version: 24\` before this one, ` +
    `or put a Node ${MIN_MAJOR}+ first on the runner's PATH (act_runner and Forgejo's runner run the first \`node\` they find there).`
  // Gitea's act_runner shows ::error lines as plain text: the message reads on its own.
  process.stdout.write(`::error title=Node ${found} is too old for pm2-safe-deploy::${message}\n`)
  process.exit(1)
}
export {}

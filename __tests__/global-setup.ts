// The integration tests run the bundled action, as a runner does: dist/ must exist.
import fs from 'node:fs'
import path from 'node:path'

export default function setup(): void {
  const main = path.resolve('dist', 'main', 'index.js')
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run \`npm run bundle\` first`)
}

// Entry point of the ecosystem reader child: `node dist/reader/index.js <file>`, or
// `node dist/reader/index.js --exec-with-app-env <file> <app> <env-name> -- <command…>`
// to run a swap's pm2 start with the app's env (never seen by the action).
import './node-version.js'
import { execWithAppEnv, readEcosystemFile } from './shell/ecosystem-reader.js'

const [first, ...rest] = process.argv.slice(2)
if (first === '--exec-with-app-env' && rest.length >= 4 && rest[3] === '--') {
  void execWithAppEnv(rest[0]!, rest[1]!, rest[2]!, rest.slice(4))
} else if (first && !first.startsWith('--')) void readEcosystemFile(first)
else {
  process.stderr.write('usage: node dist/reader/index.js <ecosystem file>\n')
  process.exit(2)
}

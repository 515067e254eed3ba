// Entry point of the ecosystem reader child: `node dist/reader/index.js <file>`.
import './node-version.js'
import { readEcosystemFile } from './shell/ecosystem-reader.js'

const file = process.argv[2]
if (file) void readEcosystemFile(file)
else {
  process.stderr.write('usage: node dist/reader/index.js <ecosystem file>\n')
  process.exit(2)
}

// Entry point of the main step. The same bundle reads ecosystem files when started
// with the reader flag, so that code from a user's repository never runs in the
// action's own process.
import { ecosystemReaderMain, READ_ECOSYSTEM_FLAG } from './ecosystem.js'
import { run } from './main.js'

if (process.argv[2] === READ_ECOSYSTEM_FLAG && process.argv[3]) {
  void ecosystemReaderMain(process.argv[3])
} else {
  void run().then(() => process.exit())
}

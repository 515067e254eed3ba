// Entry point of the main step (runs.main). The node version check comes first.
import './node-version.js'
import { run } from './main.js'

void run().then(() => process.exit())

// Entry point of the main step (runs.main).
import { run } from './main.js'

void run().then(() => process.exit())

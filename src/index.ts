// Entry point of the main step (runs.main). The node version check comes first.
import './node-version.js'
import { mainStep } from './step.js'

void mainStep().then(() => process.exit())

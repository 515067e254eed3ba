// Entry point of the post step (runs.post). The node version check comes first.
import './node-version.js'
import { postStep } from './step.js'

void postStep()

// Entry point of the host agent (dist/host/index.js), run on a deploy host over SSH (promise 12).
import './node-version.js'
import { agent } from './remote/agent.js'

void agent(process.argv.slice(2))

// Which deploy a step runs: with `ssh-host`, the remote driver on the runner (src/remote/), which
// runs the same run() on the host; else run() here. The deploy code never knows which.
import type { DeployResult } from './core/report-schema.js'
import { run } from './main.js'
import { run as runPost } from './post.js'
import { remoteRequested } from './remote/inputs.js'
import { remotePost, runRemote } from './remote/driver.js'

export function mainStep(): Promise<DeployResult> {
  return remoteRequested() ? runRemote() : run()
}

export function postStep(): Promise<void> {
  return remoteRequested() ? remotePost() : runPost()
}

// Whether the PM2 daemon went away under a deploy. `pm2 kill` (or a daemon shutting
// down) first stops every app, then exits: for a moment the apps read `stopping` while
// the socket still answers. So after a failure the socket is watched a little while
// before deciding, and longer when processes were seen `stopping` (the action never
// sends `stop`). Starts nothing: it only connects to the socket.
import path from 'node:path'
import { socketAnswers } from './pm2/rpc.js'

export async function daemonWentAway(pm2Home: string, opts: { waitMs: number; pollMs?: number }): Promise<boolean> {
  const socket = path.join(pm2Home, 'rpc.sock')
  const deadline = Date.now() + opts.waitMs
  for (;;) {
    if (!(await socketAnswers(socket))) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250))
  }
}

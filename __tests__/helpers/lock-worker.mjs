// A child process for the lock race tests: takes the host lock `iterations` times and,
// while holding it, marks itself inside the critical section in a shared occupancy file
// (exclusive create: a second occupant is an overlap) and in a shared journal. With
// `die`, it SIGKILLs itself while holding the lock on its last round (a stale lock for
// the others to take over); with `exit`, it exits without releasing (the exit hook must).
// argv: lockModuleUrl pm2Home iterations mode(live|die|exit) journal
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const [lockUrl, pm2Home, iterationsArg, mode, journal] = process.argv.slice(2)
// Widen the window between judging the lock file and removing it, where races live:
// every unlink of the lock file waits a little first.
const unlinkSync = fs.unlinkSync
fs.unlinkSync = (p, ...rest) => {
  if (String(p).endsWith('pm2-safe-deploy.lock')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15)
  return unlinkSync(p, ...rest)
}
const lock = await import(lockUrl)
const iterations = Number(iterationsArg)
const occupant = path.join(pm2Home, 'occupant')
const note = (line) => fs.appendFileSync(journal, `${line}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let overlaps = 0
let takeovers = 0

for (let i = 0; i < iterations; i++) {
  const held = await lock.acquireHostLock({
    pm2Home,
    holder: { repository: 'acme/worker', workflow: 'race', runId: String(process.pid), runUrl: null, job: `round-${i}`, app: 'worker', suffix: '', host: os.hostname() },
    timeoutSeconds: 90,
    pollMs: 5,
    log: { info() {}, warning: (m) => { takeovers++; note(`takeover ${process.pid} ${m.replace(/\n/g, ' ')}`) } }
  })
  try {
    fs.writeFileSync(occupant, String(process.pid), { flag: 'wx' })
  } catch {
    overlaps++
  }
  note(`enter ${process.pid}`)
  await sleep(2 + Math.floor(Math.random() * 10))
  note(`leave ${process.pid}`)
  fs.rmSync(occupant, { force: true })
  const last = i === iterations - 1
  if (last && mode !== 'live') {
    fs.writeSync(1, JSON.stringify({ pid: process.pid, overlaps, takeovers, rounds: i + 1 }) + '\n')
    if (mode === 'die') process.kill(process.pid, 'SIGKILL')
    process.exit(3) // mode exit: no release() call; the lock's exit hook must release it
  }
  held.release()
  await sleep(Math.floor(Math.random() * 3))
}
fs.writeSync(1, JSON.stringify({ pid: process.pid, overlaps, takeovers, rounds: iterations }) + '\n')

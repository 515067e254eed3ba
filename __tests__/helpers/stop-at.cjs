// Test-only preload for the main step (`node --require stop-at.cjs dist/main/index.js`): the
// moment the step writes a stdout line matching PM2SD_TEST_STOP_AT, it sends itself
// PM2SD_TEST_STOP_SIGNAL (SIGKILL: killed exactly there; SIGSTOP: frozen there until the
// test sends SIGCONT), after PM2SD_TEST_STOP_DELAY_MS if set. A kill point read off the
// step's own output, not a race between the test's poll and the step's next phase.
'use strict'
const pattern = process.env.PM2SD_TEST_STOP_AT
const signal = process.env.PM2SD_TEST_STOP_SIGNAL || 'SIGKILL'
const delay = Number(process.env.PM2SD_TEST_STOP_DELAY_MS || 0)
// Gone from the env before the action reads it: the apps it restarts never see them.
for (const k of ['PM2SD_TEST_STOP_AT', 'PM2SD_TEST_STOP_SIGNAL', 'PM2SD_TEST_STOP_DELAY_MS']) delete process.env[k]
if (pattern) {
  const re = new RegExp(pattern, 'm')
  const write = process.stdout.write.bind(process.stdout)
  let armed = true
  process.stdout.write = (chunk, ...rest) => {
    const ok = write(chunk, ...rest)
    if (armed && re.test(String(chunk))) {
      armed = false
      const stop = () => process.kill(process.pid, signal)
      if (delay > 0) setTimeout(stop, delay)
      else stop()
    }
    return ok
  }
}

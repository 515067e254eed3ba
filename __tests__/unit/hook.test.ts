// `prepare` / `migrate` as run by shell/hook.ts: the text never on a command line (any user on
// the host can read those), in a 0600 file removed afterwards; output kept as last lines; the
// whole process group ended on a timeout and after the exit.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { runHook, sha256Of } from '../../src/shell/hook.js'

/** Whether a process runs (a zombie, dead and waiting to be reaped, does not). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
const cwd = os.tmpdir()

/** Every process's command line on this machine, read from /proc. */
function commandLines(): string[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      return [fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')]
    } catch {
      return []
    }
  })
}

describe('runHook', () => {
  test('the text reaches sh in a 0600 file, never on a command line; the file is gone afterwards', async () => {
    const secret = `s3cret-${process.pid}-${Date.now()}`
    const probe = path.join(os.tmpdir(), `hook-probe-${process.pid}`)
    const text = `TOKEN=${secret}\nstat -c %a "$0" > ${probe}\necho "$0" >> ${probe}\nsleep 0.5\necho done`
    const running = runHook({ label: 'prepare', text, cwd, env, timeoutSeconds: 10, keepLines: 5 })
    await new Promise((r) => setTimeout(r, 250))
    expect(commandLines().filter((c) => c.includes(secret))).toEqual([])
    const res = await running
    expect(res).toMatchObject({ exitCode: 0, timedOut: false, lastLines: ['done'], sha256: sha256Of(text) })
    const [mode, file] = fs.readFileSync(probe, 'utf8').trim().split('\n')
    expect(mode).toBe('600')
    expect(fs.existsSync(file!)).toBe(false)
    fs.rmSync(probe, { force: true })
  })

  test('sh -e: the first failing command ends it with its exit code; the last lines are kept, both streams', async () => {
    const res = await runHook({ label: 'migrate', text: 'echo one\necho two >&2\nfalse\necho never', cwd, env, timeoutSeconds: 10, keepLines: 1 })
    expect(res).toMatchObject({ exitCode: 1, timedOut: false, lastLines: ['two'] })
  })

  test('past its bound, the whole group is killed, a background child included', async () => {
    const pidFile = path.join(os.tmpdir(), `hook-child-${process.pid}`)
    const res = await runHook({ label: 'prepare', text: `sleep 60 &\necho $! > ${pidFile}\nsleep 60`, cwd, env, timeoutSeconds: 1, keepLines: 5, graceMs: 500 })
    expect(res.timedOut).toBe(true)
    const child = Number(fs.readFileSync(pidFile, 'utf8'))
    expect(running(child)).toBe(false)
    fs.rmSync(pidFile, { force: true })
  })

  test('a background job left running after a successful exit is ended too', async () => {
    const pidFile = path.join(os.tmpdir(), `hook-left-${process.pid}`)
    const res = await runHook({ label: 'prepare', text: `sleep 60 > /dev/null 2>&1 &\necho $! > ${pidFile}`, cwd, env, timeoutSeconds: 10, keepLines: 5, graceMs: 500 })
    expect(res.exitCode).toBe(0)
    expect(running(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false)
    fs.rmSync(pidFile, { force: true })
  })
})

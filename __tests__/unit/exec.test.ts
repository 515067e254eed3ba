// shell/exec.ts: every child process through @actions/exec, with the bound coreutils
// `timeout` gives it. Real children (sh, sleep), no PM2.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { runBounded, timeoutExecutable } from '../../src/shell/exec.js'

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }

describe('runBounded', () => {
  test('passes arguments as an array: spaces, quotes and shell characters stay one word each', async () => {
    const r = await runBounded('/bin/sh', ['-c', 'printf "%s|" "$@"', 'sh', 'a b', '"q"', '$(id)', '*'], { env, cwd: os.tmpdir(), timeoutMs: 10_000 })
    expect(r).toMatchObject({ code: 0, timedOut: false, stdout: 'a b|"q"|$(id)|*|' })
  })

  test('runs an executable whose path has a space in it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec space-'))
    const tool = path.join(dir, 'my tool')
    fs.writeFileSync(tool, '#!/bin/sh\necho ran "$1"\nexit 3\n', { mode: 0o755 })
    try {
      expect(await runBounded(tool, ['x'], { env, cwd: dir, timeoutMs: 10_000 })).toMatchObject({ code: 3, stdout: 'ran x\n', timedOut: false })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a child that outlives its bound is ended and reported as timed out', async () => {
    expect(timeoutExecutable()).not.toBeNull()
    const r = await runBounded('/bin/sleep', ['30'], { env, cwd: os.tmpdir(), timeoutMs: 1000 })
    expect(r.timedOut).toBe(true)
    expect(r.code).toBe(124)
  })

  test('a child that exits 124 by itself within its bound is not a timeout', async () => {
    const r = await runBounded('/bin/sh', ['-c', 'exit 124'], { env, cwd: os.tmpdir(), timeoutMs: 60_000 })
    expect(r).toMatchObject({ code: 124, timedOut: false })
  })

  test('a missing executable is exit 127 with the reason, never a throw', async () => {
    const r = await runBounded('/nonexistent/pm2', ['jlist'], { env, cwd: os.tmpdir(), timeoutMs: 10_000 })
    expect(r.code).toBe(127)
    expect(r.timedOut).toBe(false)
  })
})

// What the runner reads from a host is bounded (issue 23, point 9): ssh's stderr, a short
// answer's stdout, the probe header and the frame reader's host-declared lengths. A broken or
// hostile host, or a shell rc file that prints, cannot fill the runner's memory.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { FrameReader } from '../../src/remote/protocol.js'
import { OUTPUT_LIMITS, SshTransport } from '../../src/remote/ssh.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-limits-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const HOST = { label: 'h', user: 'u', host: 'h', port: 22 }

/** A stand-in `ssh` that runs its last argument as a shell script (the remote command). */
function fakeSsh(): SshTransport {
  const ssh = path.join(dir, 'ssh')
  fs.writeFileSync(ssh, '#!/bin/sh\nfor last; do :; done\nexec /bin/sh -c "$last"\n', { mode: 0o755 })
  return SshTransport.open(ssh, dir, [HOST], null, [], null)
}

describe('bounded reads', () => {
  test("ssh's stderr: only its last 64 KiB are kept", async () => {
    const r = await fakeSsh().run(HOST, 'head -c 3000000 /dev/zero | tr "\\0" x >&2; echo last line >&2', { timeoutMs: 20_000 })
    expect(r.stderr.length).toBeLessThanOrEqual(OUTPUT_LIMITS.stderr)
    expect(r.stderr.trimEnd().endsWith('last line')).toBe(true)
  })
  test('a short answer that never ends: refused past 4 MiB, the command killed', async () => {
    const r = await fakeSsh().run(HOST, 'exec cat /dev/zero', { timeoutMs: 20_000 })
    expect(r.code).toBe(254)
    expect(r.stderr).toMatch(/more than \d+ bytes/)
    expect(r.stdout.length).toBeLessThanOrEqual(OUTPUT_LIMITS.stdout)
  })
  test('frames: a long header or a huge declared length is refused before anything is buffered', () => {
    const on = { start: () => undefined, log: () => undefined, result: () => undefined }
    expect(() => new FrameReader(on).feed(Buffer.from('L'.padEnd(100, '9')))).toThrow(/unexpected data/)
    expect(() => new FrameReader(on).feed(Buffer.from('R999999999\n'))).toThrow(/at most/)
    expect(() => new FrameReader(on).feed(Buffer.from('S70000\n'))).toThrow(/at most/)
    let beats = 0
    const r = new FrameReader({ ...on, log: () => beats++ })
    r.feed(Buffer.from('K0\nK0\nL2\nok'))
    expect(beats).toBe(1)
    expect(r.midFrame).toBe(false)
  })
})

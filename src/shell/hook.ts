// `prepare` and `migrate` (promise 15): the user's shell text run with `sh -e` in the release.
// The text may carry an inlined secret, so it reaches sh in a 0600 file in a 0700 directory
// (never on a command line, which any user on the host can read) and is recorded only as its
// sha256. It runs in its own process group: on a timeout, and after it exits, the whole group
// is killed, so nothing it started is left running. Its output is shown live, as text.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { cleanLogLine } from '../core/cause.js'
import { printUntrusted } from './print.js'

export interface HookRun {
  /** `prepare` or `migrate`: names the temporary file and the log prefix. */
  label: string
  text: string
  cwd: string
  env: Record<string, string>
  timeoutSeconds: number
  /** How many of the last output lines to keep. */
  keepLines: number
  /** Time a group gets after SIGTERM before SIGKILL. */
  graceMs?: number
}

export interface HookResult {
  sha256: string
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  durationMs: number
  lastLines: string[]
}

export const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Sends `signal` to the process group `pgid`; false once no process of it is left. */
function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Whether any live process of group `pgid` is left: from /proc, where a zombie (dead, waiting
 * for a parent that may never reap it) does not count; else by signal 0.
 */
export function groupAlive(pgid: number): boolean {
  if (!killGroup(pgid, 0 as unknown as NodeJS.Signals)) return false
  let pids: string[]
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))
  } catch {
    return true
  }
  return pids.some((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return Number(pgrp) === pgid && state !== 'Z'
    } catch {
      return false
    }
  })
}

/** Runs the text with `sh -e` (stdin closed), streaming its output; resolves when it and its group are gone. */
export async function runHook(h: HookRun): Promise<HookResult> {
  const t0 = Date.now()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pm2-safe-deploy-${h.label}-`))
  fs.chmodSync(dir, 0o700)
  const file = path.join(dir, `${h.label}.sh`)
  fs.writeFileSync(file, h.text, { mode: 0o600 })
  const last: string[] = []
  const keep = (line: string) => {
    last.push(cleanLogLine(line))
    if (last.length > h.keepLines) last.shift()
  }
  try {
    const child = spawn('/bin/sh', ['-e', file], { cwd: h.cwd, env: h.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const pgid = child.pid
    // Set up now: 'close' may come before the exit is handled.
    const closed = new Promise((r) => child.once('close', r))
    const lineReader = (stream: NodeJS.ReadableStream) => {
      let rest = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split(/\r?\n/)
        rest = parts.pop() ?? ''
        for (const line of parts) {
          keep(line)
          printUntrusted([line], `${h.label}| `)
        }
      })
      return () => {
        if (rest) {
          keep(rest)
          printUntrusted([rest], `${h.label}| `)
          rest = ''
        }
      }
    }
    const flushOut = lineReader(child.stdout)
    const flushErr = lineReader(child.stderr)
    let timedOut = false
    let killer: NodeJS.Timeout | null = null
    const timer = setTimeout(() => {
      timedOut = true
      if (pgid) killGroup(pgid, 'SIGTERM')
      killer = setTimeout(() => pgid && killGroup(pgid, 'SIGKILL'), h.graceMs ?? 3000)
    }, h.timeoutSeconds * 1000)
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.on('error', (err) => {
        keep(`could not start /bin/sh: ${err.message}`)
        resolve({ code: null, signal: null })
      })
      child.on('exit', (code, signal) => resolve({ code, signal }))
    })
    clearTimeout(timer)
    if (killer) clearTimeout(killer)
    // Whatever it left behind in its group (a background job, a daemon that kept the group) goes too.
    if (pgid) await endGroup(pgid, h.graceMs ?? 3000)
    // Its output pipes close once every writer is gone; a writer that left the group is not waited for.
    let waited: NodeJS.Timeout | undefined
    await Promise.race([closed, new Promise((r) => (waited = setTimeout(r, 1000)))])
    clearTimeout(waited)
    child.stdout.destroy()
    child.stderr.destroy()
    flushOut()
    flushErr()
    return { sha256: sha256Of(h.text), exitCode: exit.code, signal: exit.signal, timedOut, durationMs: Date.now() - t0, lastLines: last }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** SIGTERM to the group, then SIGKILL after `graceMs` if any of it is left; resolves when none is. */
async function endGroup(pgid: number, graceMs: number): Promise<void> {
  if (!killGroup(pgid, 'SIGTERM')) return
  const deadline = Date.now() + graceMs
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  if (!groupAlive(pgid)) return
  killGroup(pgid, 'SIGKILL')
  const hard = Date.now() + 2000
  while (groupAlive(pgid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 50))
}

// `npm run demo` runs the bundled action against its own throwaway PM2 daemon and must
// leave nothing behind: its process exits 0, its daemon is dead, its PM2_HOME has no
// live rpc.sock, its temp dir is gone. Also when it is interrupted with Ctrl-C.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { killDaemonAt, ROOT, testEnv } from './helpers/daemon.js'

const DEMO = path.join(ROOT, 'scripts', 'demo.mjs')
// The demo makes its temp dir under TMPDIR: give it one this test owns.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-demo-test-'))
const homes: string[] = []
afterAll(() => {
  // Safety net for a failing test: kill a daemon the demo left, by its PM2_HOME only.
  for (const home of homes) if (fs.existsSync(home)) killDaemonAt(home)
  fs.rmSync(tmp, { recursive: true, force: true })
})

interface DemoRun {
  code: number | null
  signal: NodeJS.Signals | null
  out: string
  home: string
  daemonPid: number
}

function runDemo(interruptWhen?: RegExp): Promise<DemoRun> {
  return new Promise((resolve) => {
    // The test's own environment minus runner variables; no PM2_HOME of the machine's.
    const env = { ...testEnv(''), TMPDIR: tmp }
    delete (env as Record<string, string>).PM2_HOME
    const child = spawn(process.execPath, [DEMO], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let sent = false
    const onData = (d: Buffer) => {
      out += d
      const home = out.match(/^PM2_HOME: (.+)$/m)?.[1]
      if (home && !homes.includes(home)) homes.push(home)
      if (interruptWhen && !sent && interruptWhen.test(out)) {
        sent = true
        child.kill('SIGINT')
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        out,
        home: out.match(/^PM2_HOME: (.+)$/m)?.[1] ?? '',
        daemonPid: Number(out.match(/^daemon pid: (\d+)$/m)?.[1] ?? 0)
      })
    })
  })
}

/** The process exists and is not a zombie (an exited daemon whose reaper has not collected it yet). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

function socketAnswers(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(sock)
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}

async function expectNothingLeft(run: DemoRun): Promise<void> {
  expect(run.home, run.out).toMatch(/pm2-safe-deploy-demo-/)
  expect(run.home.startsWith(tmp + path.sep)).toBe(true)
  expect(run.daemonPid, run.out).toBeGreaterThan(0)
  // pm2 kill has returned: the daemon is gone, no socket answers, the temp dir is removed.
  expect(alive(run.daemonPid), `daemon ${run.daemonPid} still runs`).toBe(false)
  expect(await socketAnswers(path.join(run.home, 'rpc.sock'))).toBe(false)
  expect(fs.existsSync(path.join(run.home, 'rpc.sock'))).toBe(false)
  expect(fs.existsSync(path.dirname(run.home))).toBe(false)
  expect(fs.readdirSync(tmp).filter((f) => f.startsWith('pm2-safe-deploy-demo-'))).toEqual([])
}

test('npm run demo: a guarded deploy succeeds, unsafe ones are refused, nothing is left running', async () => {
  const run = await runDemo()
  expect(run.code, run.out).toBe(0)
  expect(run.out).toContain('✔ the guarded deploy succeeded')
  expect(run.out).toContain('## ✅ Deployed flyer-crawler-test')
  expect(run.out).toContain('## ⛔ Aborted, nothing changed')
  expect(run.out).toMatch(/own name "flyer-crawler" is also the namespace of flyer-crawler-api, flyer-crawler-worker/)
  expect(run.out).toContain('✔ stock-alert, stock-alert-test and production are exactly as before')
  expect(run.out).not.toContain('✘')
  await expectNothingLeft(run)
})

test('Ctrl-C during the deploy: the demo still kills its daemon and removes its temp dir', async () => {
  const run = await runDemo(/━━━━ 1\. Guarded deploy/)
  expect(run.code, run.out).toBe(130)
  expect(run.out).toContain('SIGINT: stopping the demo.')
  await expectNothingLeft(run)
})

// A real PM2 daemon on a private PM2_HOME in a temp dir, for one test file. Killed by
// that PM2_HOME only (`pm2 kill`), in afterAll and on process exit, also when a test fails.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const PM2_BIN = path.join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2')
/** The pm2 versions CI runs against: devDependencies `pm2` (7.0.x) and the aliases `pm2-6`, `pm2-5`. */
export type Pm2Package = 'pm2' | 'pm2-6' | 'pm2-5'
export const pm2BinOf = (pkg: Pm2Package): string => path.join(ROOT, 'node_modules', pkg, 'bin', 'pm2')
export const pm2VersionOf = (pkg: Pm2Package): string => (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
export const APPS = path.join(ROOT, '__tests__', 'fixtures', 'apps')

/** PM2_HOME → the pm2 bin that started its daemon (it kills it too). */
const live = new Map<string, string>()
process.on('exit', () => {
  for (const [home, bin] of live) killDaemonAt(home, bin)
})

/** The environment for test-side pm2 calls: no runner variables, this PM2_HOME. */
export function testEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue
    if (/^(INPUT_|STATE_|ACTIONS_|GITHUB_|RUNNER_)/.test(k) || k === 'name' || k === 'namespace' || k === 'pm_id') continue
    env[k] = v
  }
  return { ...env, PM2_HOME: home, ...extra }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** `pm2 kill` for this PM2_HOME only, then waits until that daemon's pid is gone (kill returns before it exits). */
export function killDaemonAt(home: string, bin = live.get(home) ?? PM2_BIN): void {
  if (!fs.existsSync(path.join(home, 'rpc.sock')) && !fs.existsSync(path.join(home, 'pm2.pid'))) return
  let pid = 0
  try {
    pid = Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim())
  } catch {
    // no pid file: nothing to wait for
  }
  spawnSync(process.execPath, [bin, 'kill', '-s'], { env: testEnv(home), stdio: 'ignore', timeout: 30_000 })
  const deadline = Date.now() + 10_000
  while (pid > 0 && pidAlive(pid) && Date.now() < deadline) spawnSync('sleep', ['0.05'])
  live.delete(home)
}

export interface StartOptions {
  name: string
  script: string
  namespace?: string
  instances?: number
  env?: Record<string, string>
  interpreter?: string
  cwd?: string
  args?: string[]
}

export class TestDaemon {
  readonly home: string
  readonly dir: string
  /** The pm2 CLI this daemon is started and driven with (the `pm2` devDependency unless a test picks another version). */
  readonly pm2Bin: string

  private constructor(dir: string, pm2Bin: string) {
    this.dir = dir
    this.home = path.join(dir, 'pm2home')
    this.pm2Bin = pm2Bin
  }

  /** A temp dir with a PM2_HOME inside it; the daemon (of `pm2Package`) starts on the first `start`/`ping`. */
  static create(label = 'test', pm2Package: Pm2Package = 'pm2'): TestDaemon {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pm2sd-${label}-`))
    const d = new TestDaemon(dir, pm2BinOf(pm2Package))
    fs.mkdirSync(d.home)
    return d
  }

  pm2(args: string[], extraEnv: Record<string, string> = {}, cwd = this.dir): string {
    live.set(this.home, this.pm2Bin)
    return execFileSync(process.execPath, [this.pm2Bin, ...args], {
      env: testEnv(this.home, extraEnv),
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe']
    })
  }

  ping(): void {
    this.pm2(['-s', 'ping'])
  }

  start(o: StartOptions): void {
    const args = ['-s', 'start', o.script, '--name', o.name]
    if (o.namespace) args.push('--namespace', o.namespace)
    if (o.instances) args.push('-i', String(o.instances))
    if (o.interpreter) args.push('--interpreter', o.interpreter)
    if (o.cwd) args.push('--cwd', o.cwd)
    if (o.args) args.push('--', ...o.args)
    this.pm2(args, o.env ?? {}, o.cwd ?? this.dir)
  }

  /** The raw process list, env included (tests read it; the action never logs it). */
  jlistRaw(): Array<{ name: string; pm_id: number; pid: number; pm2_env: Record<string, unknown> & { status: string; restart_time: number; namespace: string; env?: Record<string, string> } }> {
    return JSON.parse(this.pm2(['-s', 'jlist']))
  }

  /** name → sorted "pm_id:pid:restarts:status" strings, to compare whole states. */
  fingerprint(filter: (name: string) => boolean = () => true): Record<string, string[]> {
    const out: Record<string, string[]> = {}
    for (const p of this.jlistRaw()) {
      if (!filter(p.name)) continue
      ;(out[p.name] ??= []).push(`${p.pm_id}:${p.pid}:${p.pm2_env.restart_time}:${p.pm2_env.status}`)
    }
    for (const k of Object.keys(out)) out[k]!.sort()
    return out
  }

  /** Waits until every process is online (cluster instances take a moment). */
  async waitOnline(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const list = this.jlistRaw()
      if (list.length > 0 && list.every((p) => p.pm2_env.status === 'online' && p.pid > 0)) return
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error('processes did not come online')
  }

  kill(): void {
    killDaemonAt(this.home, this.pm2Bin)
  }

  destroy(): void {
    this.kill()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Creates daemons for one test file; every one is destroyed in that file's afterAll, pass or fail. */
export function daemonsForThisFile(): (label: string, pm2Package?: Pm2Package) => TestDaemon {
  const daemons: TestDaemon[] = []
  afterAll(() => {
    for (const d of daemons.splice(0)) d.destroy()
  })
  return (label, pm2Package) => {
    const d = TestDaemon.create(label, pm2Package)
    daemons.push(d)
    return d
  }
}

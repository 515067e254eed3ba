// Input fuzzing over the whole orchestration: arbitrary values for every input of action.yml,
// set as a runner sets them (INPUT_<NAME>, read through @actions/core), against a fake PM2
// with a crowded process table. Each run ends in a result with a clear message, never an
// unexpected error or a stack trace; a refused run changes nothing, and no run changes
// another app's processes.
import fc from 'fast-check'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import type { PlannedCommand } from '../../src/core/plan.js'
import type { ProcessRecord } from '../../src/core/process-record.js'
import type { EcosystemApp } from '../../src/shell/ecosystem-protocol.js'
import { readEcosystem } from '../../src/shell/ecosystem.js'
import { run } from '../../src/main.js'
import { FakePm2, processRecord } from '../helpers/fake-pm2.js'
import { anyInputs, HOSTILE, INPUT_NAMES, MAX_UP, rootedPath } from '../helpers/input-arbitraries.js'
import { inputVar, parseCommandFile } from '../helpers/run-action.js'

// No network here: a health URL is checked the way fetch would take it, and answers 200.
vi.mock('../../src/shell/health.js', () => ({
  fetchStatus: async (url: string) => {
    const u = new URL(url)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`fetch failed: ${u.protocol}`)
    return 200
  }
}))

const RESULTS = ['deployed', 'dry-run', 'aborted', 'failed', 'rolled-back']
const STACK = /(\n|%0A)\s+at .+:\d+:\d+/
const ECOSYSTEM = JSON.stringify({ apps: [{ name: 'flyer-crawler-api-test', script: 'server.js' }, { name: 'flyer-crawler-worker-test', script: 'worker.js' }] })
/** A run that takes longer than this (real time) is a gap in the fake, not a finding. */
const RUN_LIMIT_MS = 20_000
// FUZZ_RUNS=5000 for a longer hunt.
const RUNS = Number(process.env.FUZZ_RUNS ?? 250)

const repo = process.cwd()
let summaryDir: string
let repoListing: string[]
/** The log of the last fuzzOnce run. */
let lastOut = ''

/**
 * A fake PM2 that also starts what a start command names (an ecosystem file's apps, a
 * swap's new instances), and whose event bus lets the stability window pass in fake time.
 */
class FuzzPm2 extends FakePm2 {
  private nextId = 100
  // Above any pid_max (2^22): /proc has no such process, as for a process that just exited.
  private nextFakePid = 5_000_000

  override respawn(p: ProcessRecord): void {
    super.respawn(p)
    p.pid = this.nextFakePid++
    p.startedAt = Date.now()
  }

  override async eventSleep(): Promise<(ms: number) => Promise<void>> {
    return async (ms) => {
      vi.advanceTimersByTime(ms)
      await new Promise((r) => setImmediate(r))
    }
  }

  started(cmd: PlannedCommand): void {
    if (cmd.verb === 'start-script') {
      for (let i = 0; i < cmd.instances; i++) this.add(cmd.name, cmd.script, cmd.cwd, cmd.execMode)
    } else if (cmd.verb === 'start' || cmd.verb === 'startOrReload' || cmd.verb === 'startOrRestart') {
      const dir = path.dirname(cmd.ecosystem)
      for (const name of cmd.only) {
        const have = this.processes.filter((p) => p.name === name)
        if (have.length === 0) this.add(name, path.join(dir, name.includes('worker') ? 'worker.js' : 'server.js'), dir, 'fork')
        else if (cmd.verb !== 'start') have.forEach((p) => this.respawn(p))
      }
    }
  }

  private add(name: string, script: string, cwd: string, execMode: 'fork' | 'cluster'): void {
    const pmId = this.nextId++
    this.processes.push(processRecord({ pmId, name, script, cwd, execMode, pid: this.nextFakePid++, startedAt: Date.now() }))
  }
}

/** A crowded host: the sample app's test and production processes, and neighbours. */
function hostTable(ws: string): ProcessRecord[] {
  const own = (pmId: number, name: string, file: string) => processRecord({ pmId, name, script: path.join(ws, file), cwd: ws })
  return [
    own(0, 'flyer-crawler-api-test', 'server.js'),
    own(1, 'flyer-crawler-worker-test', 'worker.js'),
    processRecord({ pmId: 2, name: 'flyer-crawler-api', namespace: 'flyer-crawler' }),
    processRecord({ pmId: 3, name: 'stock-alert-test' }),
    processRecord({ pmId: 4, name: 'stock-alert-api', execMode: 'cluster', instances: 2 }),
    processRecord({ pmId: 5, name: 'stock-alert-api', execMode: 'cluster', instances: 2 }),
    processRecord({ pmId: 6, name: 'shop-api', namespace: 'flyer-crawler-test' })
  ]
}

interface Box {
  box: string
  root: string
  ws: string
  link: string
}

/** The per-run temp tree: the root sits 2 × MAX_UP levels down, so no input can climb out of the box. */
function makeBox(): Box {
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-fuzz-'))
  const root = path.join(box, ...Array.from({ length: 2 * MAX_UP }, (_, i) => `r${i}`))
  const ws = path.join(root, 'ws', 'a', 'b', 'c', 'd', 'e')
  for (const d of [ws, path.join(root, 'home', 'a', 'b'), path.join(root, 'pm2home'), path.join(root, 'envpm2'), path.join(ws, 'pm2'), path.join(box, 'runner')]) fs.mkdirSync(d, { recursive: true })
  for (const dir of [ws, path.join(ws, 'releases', 'r1'), path.join(ws, 'releases', 'r2')]) {
    fs.mkdirSync(dir, { recursive: true })
    for (const f of ['server.js', 'worker.js']) fs.writeFileSync(path.join(dir, f), '')
    fs.writeFileSync(path.join(dir, 'ecosystem.json'), ECOSYSTEM)
  }
  for (const f of [path.join(ws, 'a-file.txt'), path.join(root, 'a-file.txt'), path.join(box, 'runner', 'output'), path.join(box, 'runner', 'state')]) fs.writeFileSync(f, '')
  const link = path.join(ws, 'current')
  fs.symlinkSync(path.join(ws, 'releases', 'r1'), link)
  return { box, root, ws, link }
}

/** The ecosystem reader as the action runs it (a separate node process), once per file content. */
const readCache = new Map<string, EcosystemApp[]>()
async function readEcosystemOnce(file: string, env: Record<string, string>, cwd: string): Promise<EcosystemApp[]> {
  let content: string | null = null
  try {
    content = fs.statSync(file).isFile() ? path.extname(file) + fs.readFileSync(file, 'utf8') : null
  } catch {
    // missing: the real reader says so
  }
  const cached = content === null ? undefined : readCache.get(content)
  if (cached) return structuredClone(cached)
  const apps = await readEcosystem(file, env, cwd)
  if (content !== null) readCache.set(content, structuredClone(apps))
  return apps
}

const releasesOf = (ws: string) => fs.readdirSync(path.join(ws, 'releases')).sort()

async function fuzzOnce(inputs: Record<string, string | undefined>, setup?: (fake: FuzzPm2, box: Box) => void): Promise<string> {
  const b = makeBox()
  const stdout: string[] = []
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true))
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
  const fake = new FuzzPm2(hostTable(b.ws))
  fake.afterSend = (cmd) => fake.started(cmd)
  setup?.(fake, b)
  const tableBefore = structuredClone(fake.processes)
  try {
    process.chdir(b.ws)
    vi.stubEnv('HOME', path.join(b.root, 'home', 'a', 'b'))
    vi.stubEnv('PM2_HOME', path.join(b.root, 'envpm2'))
    vi.stubEnv('GITHUB_WORKSPACE', b.ws)
    vi.stubEnv('RUNNER_TEMP', path.join(b.box, 'runner'))
    vi.stubEnv('GITHUB_OUTPUT', path.join(b.box, 'runner', 'output'))
    vi.stubEnv('GITHUB_STATE', path.join(b.box, 'runner', 'state'))
    vi.stubEnv('GITHUB_STEP_SUMMARY', path.join(summaryDir, 'summary'))
    fs.writeFileSync(path.join(summaryDir, 'summary'), '')
    // Left out: the runner's default (as action.yml gives it, or empty for a new input).
    for (const name of INPUT_NAMES) vi.stubEnv(inputVar(name), inputs[name] === undefined ? undefined : rootedPath(inputs[name]!, b.root))
    let timer: NodeJS.Timeout | undefined
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the run did not end within ${RUN_LIMIT_MS} ms`)), RUN_LIMIT_MS)
    })
    const result = await Promise.race([run({ openPm2: async () => fake, readEcosystem: readEcosystemOnce }), limit]).finally(() => clearTimeout(timer))
    const out = (lastOut = stdout.join(''))
    const outputs = parseCommandFile(fs.readFileSync(path.join(b.box, 'runner', 'output'), 'utf8'))
    const why = () => `result ${result}\n${out.slice(-3000)}`

    expect(RESULTS, why()).toContain(result)
    expect(outputs.result, why()).toBe(result)
    expect(out, why()).not.toMatch(STACK)
    expect(out, why()).not.toMatch(/Unexpected error/)
    if (result === 'deployed' || result === 'dry-run') {
      expect(process.exitCode ?? 0, why()).toBe(0)
    } else {
      expect(process.exitCode, why()).toBe(1)
      // The refusal or failure says what was wrong, in the step's annotation.
      expect(out, why()).toMatch(/^::error[^\n]*::\s*\S/m)
    }
    if (result === 'aborted') {
      expect(fake.sent, why()).toEqual([])
      expect(fake.processes, why()).toEqual(tableBefore)
      expect(fs.readlinkSync(b.link), why()).toBe(path.join(b.ws, 'releases', 'r1'))
      expect(releasesOf(b.ws), why()).toEqual(['r1', 'r2'])
      // Nothing changed, so nothing to restore.
      expect(out, why()).not.toMatch(/Restore:/)
    }
    // Whatever the result, another app's processes are as they were.
    const own = new Set<string>(JSON.parse(outputs['own-processes'] || '[]') as string[])
    const others = (list: ProcessRecord[]) => list.filter((p) => !own.has(p.name))
    expect(others(fake.processes), why()).toEqual(others(tableBefore))
    return result
  } finally {
    process.chdir(repo)
    vi.useRealTimers()
    write.mockRestore()
    vi.unstubAllEnvs()
    process.exitCode = 0
    fs.rmSync(b.box, { recursive: true, force: true })
  }
}

beforeAll(() => {
  // core.summary keeps the first GITHUB_STEP_SUMMARY it sees: one file for every run.
  summaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-fuzz-summary-'))
  repoListing = fs.readdirSync(repo).sort()
})

afterAll(() => {
  fs.rmSync(summaryDir, { recursive: true, force: true })
  // Nothing was written into the checkout (relative paths resolve in the box).
  expect(fs.readdirSync(repo).sort()).toEqual(repoListing)
})

const JOB = { app: 'flyer-crawler', 'environment-suffix': '-test', whitelist: 'flyer-crawler-api', 'pm2-home': 'pm2' }

describe('counterexamples the fuzzing found', () => {
  test('a health-url fetch cannot use is refused before any command (it was accepted, deployed, then failed)', async () => {
    expect(await fuzzOnce({ ...JOB, 'health-url': 'http://[::1' })).toBe('aborted')
  })

  test('a snapshot-dir with a name too long is refused with the fix (it was an Unexpected error with a stack after the lock)', async () => {
    expect(await fuzzOnce({ ...JOB, 'snapshot-dir': 'x'.repeat(5000) })).toBe('aborted')
  })

  test('a current-link name too long is refused before any change (the switch threw ENAMETOOLONG with a stack)', async () => {
    expect(await fuzzOnce({ ...JOB, whitelist: undefined, ecosystem: 'ecosystem.json', 'current-link': 'x'.repeat(5000), 'release-dir': 'releases/r2' })).toBe('aborted')
  })

  test('an after snapshot that cannot be written still uses the list read: no restore hints for neighbours that never went away', async () => {
    const result = await fuzzOnce({ ...JOB, whitelist: 'flyer-crawler-nope', 'snapshot-dir': 'snaps' }, (fake, b) => {
      let lists = 0
      // The second read is the after snapshot's: its directory is a file by then.
      fake.beforeList = () => {
        if (++lists !== 2) return
        const snaps = path.join(b.ws, 'snaps')
        fs.rmSync(snaps, { recursive: true, force: true })
        fs.writeFileSync(snaps, '')
      }
    })
    expect(result).toBe('aborted')
    expect(lastOut).toMatch(/could not write the after snapshot/)
    expect(lastOut).not.toMatch(/could not be read|Restore:/)
  })
})

describe('the deploy over arbitrary inputs', () => {

  test('ends in a clear result, never a stack; a refused run changes nothing; neighbours never change', async () => {
    const seen = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(anyInputs, async (inputs) => {
        const result = await fuzzOnce(inputs)
        seen.set(result, (seen.get(result) ?? 0) + 1)
      }),
      { numRuns: RUNS }
    )
    // The cases reach valid plans and deploys too, not only refusals.
    console.log('results:', Object.fromEntries(seen))
    for (const r of ['deployed', 'dry-run', 'aborted']) expect(seen.get(r) ?? 0).toBeGreaterThan(10)
  }, Math.max(60_000, RUNS * 200))
})

// FUZZ_SWEEP=1: every hostile value in every input, one at a time, on a whitelist job and a release job (a few minutes).
describe.skipIf(!process.env.FUZZ_SWEEP)('every hostile value in every input', () => {
  const jobs = { whitelist: JOB, release: { ...JOB, whitelist: undefined, ecosystem: 'ecosystem.json', 'current-link': 'current', 'release-dir': 'releases/r2', 'keep-releases': '1' } }
  for (const [kind, job] of Object.entries(jobs)) {
    test(`on a ${kind} job`, async () => {
      for (const name of INPUT_NAMES) for (const value of HOSTILE) {
        try {
          await fuzzOnce({ ...job, [name]: value })
        } catch (err) {
          throw new Error(`${name}=${JSON.stringify(value.slice(0, 80))}: ${(err as Error).message.replace(/(.)\1{30,}/g, "$1…").slice(0, 3000)}`)
        }
      }
    }, 600_000)
  }
})


// Promise 15 through the bundled action on real daemons (the self-hosted form): a release
// made complete on the host before it can go live. Seed 000's FastAPI app with its virtualenv
// made by `prepare` and its .env shared; a Node app whose `prepare` runs `npm ci --offline`;
// prepare failing and timing out (nothing left running); the live release never prepared; a
// rollback that does not prepare; prepare holding no daemon lock; every release-dir refusal
// (dry run too) changing nothing on disk; a staged upload made release-dir; keep-releases
// beside shared/ and logs/.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { DeployReport } from '../src/core/report-schema.js'
import { APPS, ROOT, daemonsForThisFile, type TestDaemon } from './helpers/daemon.js'
import { freePort, until } from './helpers/load.js'
import { runAction, type ActionRun } from './helpers/run-action.js'

const newDaemon = daemonsForThisFile()
const FIXTURES = path.join(ROOT, '__tests__', 'fixtures')
const report = (run: ActionRun): DeployReport => JSON.parse(fs.readFileSync(run.outputs.report!, 'utf8'))

/** Whether a process runs (a zombie, dead and waiting to be reaped, does not). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

function get(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve(body))
      })
      .on('error', () => resolve(null))
  })
}

/** The agent's staging area under `root` (…/pm2-safe-deploy/staging): the only place a run takes a staged upload from. */
function stagingArea(root: string): string {
  const dir = path.join(root, 'pm2-safe-deploy', 'staging')
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

function deploy(d: TestDaemon, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({ inputs: { 'environment-suffix': '-test', whitelist: '', ecosystem: 'ecosystem.config.js', 'stable-seconds': '2', 'timeout-seconds': '60', ...inputs }, env, pm2Home: d.home, baseDir: d.dir, timeoutMs: 120_000 })
}

/** Every path under `dir` with its kind, size, mode and mtime: "nothing on disk changed" compares two of these. */
function tree(dir: string): string[] {
  const out: string[] = []
  const walk = (p: string) => {
    let st: fs.Stats
    try {
      st = fs.lstatSync(p)
    } catch {
      return
    }
    out.push(`${path.relative(dir, p)} ${st.isSymbolicLink() ? 'l ' + fs.readlinkSync(p) : st.isDirectory() ? 'd' : 'f'} ${st.size} ${st.mode} ${st.mtimeMs}`)
    if (st.isDirectory() && !st.isSymbolicLink()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e))
  }
  walk(dir)
  return out
}

// ---------------------------------------------------------------- seed 000: python in a virtualenv made on the host

/** releases/<name>: seed 000's backend (app/main.py) and its ecosystem file, no virtualenv: `prepare` makes it. */
function autoAuthorRelease(base: string, name: string, port: number): string {
  const dir = path.join(base, 'releases', name)
  fs.cpSync(path.join(FIXTURES, 'seed-000'), dir, { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'ecosystem.config.js'),
    `module.exports = { apps: [{ name: 'auto-author-backend-test', script: '.venv/bin/python', args: '-m uvicorn app.main:app --host 127.0.0.1 --port ${port}', cwd: '${path.join(base, 'current', 'backend')}', interpreter: 'none', autorestart: true, max_restarts: 10 }] }\n`
  )
  return dir
}

const PYTHON_PREPARE = `cd backend
/usr/bin/python3 -m venv --system-site-packages .venv
echo "$RELEASE_DIR" >> "$SHARED_DIR/prepared.log"
echo "venv ready in $RELEASE_DIR (previous: \${PREVIOUS_RELEASE_DIR:-none})"
`

describe('seed 000: a FastAPI app whose virtualenv `prepare` makes on the host, its .env shared', () => {
  let d: TestDaemon
  let base: string
  let port: number
  const inputs = (release: string, over: Record<string, string> = {}) => ({
    app: 'auto-author',
    'current-link': path.join(base, 'current'),
    'release-dir': path.join(base, 'releases', release),
    shared: 'backend/.env',
    prepare: PYTHON_PREPARE,
    'stable-seconds': '3',
    ...over
  })
  const prepared = () => fs.readFileSync(path.join(base, 'shared', 'prepared.log'), 'utf8').trim().split('\n')

  beforeAll(async () => {
    d = newDaemon('prepare-python')
    d.ping()
    base = path.join(fs.realpathSync(d.dir), 'auto-author')
    port = await freePort()
    fs.mkdirSync(path.join(base, 'shared', 'backend'), { recursive: true })
    fs.writeFileSync(path.join(base, 'shared', 'backend', '.env'), 'GREETING=hello from the shared .env\n')
    autoAuthorRelease(base, 'v1', port)
  })

  test('the first deploy: the venv made by prepare, .env linked from shared/, the app answering with its value', async () => {
    const run = await deploy(d, inputs('v1'))
    expect(run.outputs.result, run.stdout).toBe('deployed')
    const v1 = path.join(base, 'releases', 'v1')
    expect(fs.readlinkSync(path.join(v1, 'backend', '.env'))).toBe(path.join(base, 'shared', 'backend', '.env'))
    expect(fs.existsSync(path.join(v1, 'backend', '.venv', 'bin', 'python'))).toBe(true)
    const body = JSON.parse((await until('the app answering', () => get(port)))!)
    expect(body).toMatchObject({ message: 'Welcome to the Auto Author API!', greeting: 'hello from the shared .env', release: 'v1', prefix: path.join(base, 'current', 'backend', '.venv') })
    expect(run.stdout).toMatch(/prepare\| venv ready in .*\/releases\/v1 \(previous: none\)/)
    const r = report(run)
    expect(r.prepare).toMatchObject({ skipped: null, exitCode: 0, timedOut: false, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(r.prepare!.lastLines.at(-1)).toMatch(/venv ready/)
    // The text itself is never recorded, nor on a command line.
    expect(fs.readFileSync(run.outputs.report!, 'utf8')).not.toContain('--system-site-packages')
    expect(Object.keys(r.timings)).toEqual(expect.arrayContaining(['Prepare release', 'Host lock']))
    expect(Object.keys(r.timings).indexOf('Prepare release')).toBeLessThan(Object.keys(r.timings).indexOf('Host lock'))
    expect(prepared()).toEqual([v1])
  })

  test('re-deploying the live release skips the stage and says so', async () => {
    const run = await deploy(d, inputs('v1'))
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(run.stdout).toMatch(/is the live release .*: a redeploy: nothing is uploaded, linked or prepared/)
    expect(report(run).prepare).toMatchObject({ skipped: expect.stringMatching(/live release/), exitCode: null })
    expect(prepared()).toHaveLength(1)
  })

  test('a crashing v2 is rolled back to v1, which is not prepared again; v2 was prepared once with PREVIOUS_RELEASE_DIR', async () => {
    autoAuthorRelease(base, 'v2', port)
    // v2 ships a .env of its own: the shared one exists, so the release's copy is replaced by the link (and the log says so).
    fs.writeFileSync(path.join(base, 'releases', 'v2', 'backend', '.env'), 'CRASH=1\n')
    fs.appendFileSync(path.join(base, 'releases', 'v2', 'backend', 'app', 'main.py'), '\nraise RuntimeError("Error: v2 is broken")\n')
    const run = await deploy(d, inputs('v2'))
    expect(run.outputs.result, run.stdout).toBe('rolled-back')
    expect(run.stdout).toMatch(/shared backend\/\.env → .*: the release's copy was removed and replaced by the link/)
    expect(run.stdout).toMatch(/prepare\| venv ready in .*\/releases\/v2 \(previous: .*\/releases\/v1\)/)
    expect(prepared()).toEqual([path.join(base, 'releases', 'v1'), path.join(base, 'releases', 'v2')])
    expect(fs.realpathSync(path.join(base, 'current'))).toBe(path.join(base, 'releases', 'v1'))
    expect(JSON.parse((await until('v1 answering', () => get(port)))!)).toMatchObject({ release: 'v1', greeting: 'hello from the shared .env' })
  })
})

// ---------------------------------------------------------------- a Node app: npm ci --offline against a package it ships

/** releases/<name>: server.js, package.json + lock with `greet` from vendor/greet-1.0.0.tgz, no node_modules. */
function npmRelease(base: string, name: string, port: number, tarballDir: string): string {
  const dir = path.join(base, 'releases', name)
  fs.mkdirSync(path.join(dir, 'vendor'), { recursive: true })
  fs.copyFileSync(path.join(FIXTURES, 'npm-app', 'server.js'), path.join(dir, 'server.js'))
  fs.copyFileSync(path.join(tarballDir, 'greet-1.0.0.tgz'), path.join(dir, 'vendor', 'greet-1.0.0.tgz'))
  fs.copyFileSync(path.join(tarballDir, 'package.json'), path.join(dir, 'package.json'))
  fs.copyFileSync(path.join(tarballDir, 'package-lock.json'), path.join(dir, 'package-lock.json'))
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [{ name: 'shop-test', script: 'server.js', cwd: __dirname, env: { PORT: '${port}', RELEASE: '${name}' } }] }\n`)
  return dir
}

describe('a Node app on one daemon: npm ci in prepare, failures, timeouts, no daemon lock held, refusals, staged uploads', () => {
  let d: TestDaemon
  let base: string
  let port: number
  let pack: string
  const link = () => path.join(base, 'current')
  const inputs = (release: string, over: Record<string, string> = {}) => ({
    app: 'shop',
    'current-link': link(),
    'release-dir': path.join(base, 'releases', release),
    shared: 'logs/',
    prepare: 'npm ci --omit=dev --offline --no-audit --no-fund',
    ...over
  })

  beforeAll(async () => {
    d = newDaemon('prepare-node')
    d.ping()
    base = path.join(fs.realpathSync(d.dir), 'shop')
    port = await freePort()
    // The package the app ships, and a lockfile naming it: made once, offline.
    pack = path.join(d.dir, 'pack')
    fs.mkdirSync(pack)
    execFileSync('npm', ['pack', path.join(FIXTURES, 'npm-app', 'greet'), '--pack-destination', pack], { cwd: pack, stdio: 'ignore' })
    fs.writeFileSync(path.join(pack, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0', private: true, dependencies: { greet: 'file:vendor/greet-1.0.0.tgz' } }))
    fs.mkdirSync(path.join(pack, 'vendor'))
    fs.copyFileSync(path.join(pack, 'greet-1.0.0.tgz'), path.join(pack, 'vendor', 'greet-1.0.0.tgz'))
    execFileSync('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], { cwd: pack, stdio: 'ignore' })
    npmRelease(base, 'v1', port, pack)
    const run = await deploy(d, inputs('v1'))
    expect(run.outputs.result, run.stdout).toBe('deployed')
  })

  test('npm ci --omit=dev --offline installs the shipped package: the app answers through it', async () => {
    expect(fs.existsSync(path.join(base, 'releases', 'v1', 'node_modules', 'greet', 'index.js'))).toBe(true)
    expect(await until('v1 answering', () => get(port))).toBe('hello from greet, v1')
    expect(fs.readlinkSync(path.join(base, 'releases', 'v1', 'logs'))).toBe(path.join(base, 'shared', 'logs'))
  })

  test('a prepare that fails ends aborted: its cause and last lines in the annotation and summary, no pm2 command, link untouched', async () => {
    npmRelease(base, 'bad', port, pack)
    const before = d.fingerprint()
    const run = await deploy(d, inputs('bad', { prepare: 'echo building\necho "Error: the build broke" >&2\nexit 3\necho never' }))
    expect(run.outputs.result, run.stdout).toBe('aborted')
    const r = report(run)
    expect(r.title).toBe('Prepare failed')
    expect(r.message).toMatch(/prepare exited with 3 in .*\/releases\/bad: nothing was sent to PM2 and .*current is untouched/)
    expect(r.commands).toEqual([])
    expect(r.prepare).toMatchObject({ exitCode: 3, timedOut: false, lastLines: ['building', 'Error: the build broke'] })
    expect(r.failing).toEqual([{ name: 'prepare', cause: 'Error: the build broke', logs: [{ stream: 'out', file: 'prepare output', lines: ['building', 'Error: the build broke'] }] }])
    expect(run.stdout).toMatch(/::error title=pm2-safe-deploy%3A Prepare failed::.*prepare logged: Error: the build broke/)
    expect(run.summary).toMatch(/prepare.*logged.*Error: the build broke/)
    expect(run.stdout).not.toContain('echo never')
    expect(fs.realpathSync(link())).toBe(path.join(base, 'releases', 'v1'))
    expect(d.fingerprint()).toEqual(before)
  })

  test('a prepare that outlives prepare-timeout-seconds: its whole process group killed, nothing left running, aborted', async () => {
    const pidFile = path.join(d.dir, 'prepare-child.pid')
    const run = await deploy(d, inputs('bad', { prepare: `sleep 300 &\necho $! > ${pidFile}\necho started\nsleep 300`, 'prepare-timeout-seconds': '2' }))
    expect(run.outputs.result, run.stdout).toBe('aborted')
    const r = report(run)
    expect(r.message).toMatch(/prepare ran past prepare-timeout-seconds \(2 s\); its whole process group was killed/)
    expect(r.prepare).toMatchObject({ timedOut: true, lastLines: ['started'] })
    const child = Number(fs.readFileSync(pidFile, 'utf8'))
    expect(child).toBeGreaterThan(0)
    expect(running(child)).toBe(false)
    expect(r.commands).toEqual([])
  })

  test('prepare holds no daemon lock: another app deploys on the same daemon while it runs', async () => {
    npmRelease(base, 'v2', port, pack)
    const started = path.join(d.dir, 'v2-prepare-started')
    const go = path.join(d.dir, 'v2-prepare-go')
    const slow = deploy(d, inputs('v2', { prepare: `touch ${started}\ni=0\nwhile [ ! -f ${go} ]; do sleep 0.2; i=$((i+1)); [ $i -lt 400 ] || exit 9; done\nnpm ci --omit=dev --offline --no-audit --no-fund` }))
    await until('v2 preparing', async () => (fs.existsSync(started) ? true : null), 60_000)
    const other = await runAction({
      inputs: { app: 'neighbour', 'environment-suffix': '-test', whitelist: 'neighbour', 'stable-seconds': '1' },
      pm2Home: d.home,
      baseDir: d.dir
    })
    // The whitelist names a process this daemon does not have: the other deploy got the daemon lock, ran and ended on its own terms.
    expect(other.stdout).toMatch(/Holding .*pm2-safe-deploy\.lock/)
    expect(fs.existsSync(go)).toBe(false)
    fs.writeFileSync(go, '')
    const run = await slow
    expect(run.outputs.result, run.stdout).toBe('deployed')
    expect(await until('v2 answering', async () => ((await get(port)) === 'hello from greet, v2' ? 'v2' : null))).toBe('v2')
  })

  test('every release-dir refusal ends aborted before a byte is written, in a dry run too: nothing on disk changes', async () => {
    // v2 is live, v1 the previous release; a neighbour runs from a directory of its own.
    const legacy = path.join(d.dir, 'legacy')
    fs.mkdirSync(path.join(legacy, 'bin'), { recursive: true })
    fs.copyFileSync(path.join(APPS, 'idle.cjs'), path.join(legacy, 'bin', 'idle.cjs'))
    d.start({ name: 'legacy-report', script: path.join(legacy, 'bin', 'idle.cjs'), cwd: path.join(legacy, 'bin') })
    // The neighbour's own data, inside the directory it runs from: an upload must never replace it.
    fs.mkdirSync(path.join(legacy, 'bin', 'data'))
    fs.writeFileSync(path.join(legacy, 'bin', 'data', 'orders.db'), 'precious\n')
    const cases: [string, RegExp, Record<string, string>?][] = [
      [base, /contains current-link/],
      [path.join(base, 'releases') + '/', /is the directory that holds the releases .*env\.VERSION.* was empty/],
      [path.join(base, 'current', 'dist'), /lies inside current-link|goes through current-link/],
      [path.join(base, 'releases', 'v2', 'dist'), /lies inside the live release/],
      [path.join(base, 'releases', 'v1'), /is the previous release, kept as the rollback target: use `rollback-to: previous`/],
      [path.join(base, 'shared'), /is shared-dir/],
      [legacy, /contains .*legacy\/bin, where PM2 process legacy-report \(pm_id \d+\) runs from/],
      [path.join(legacy, 'bin', 'data'), /exists inside .*legacy\/bin, where PM2 process legacy-report \(pm_id \d+\) runs from, and no deploy of this app recorded it as a release/],
      [path.join(base, 'releases', 'v1'), /is the previous release/, { 'dry-run': 'true' }],
      [path.join(base, 'shared', 'v3'), /lies inside shared-dir/, { 'dry-run': 'true' }]
    ]
    const disk = () => [...tree(base), ...tree(legacy)]
    const before = disk()
    const processes = d.fingerprint()
    for (const [dir, why, over] of cases) {
      // As over SSH: the upload staged under a temporary name, made release-dir only after the check.
      const staged = fs.mkdtempSync(path.join(stagingArea(d.dir), 'x-'))
      fs.writeFileSync(path.join(staged, 'server.js'), 'overwritten\n')
      const run = await deploy(d, { ...inputs('x'), 'release-dir': dir, prepare: 'touch PREPARED', ...over }, { 'INPUT_STAGED-UPLOAD': staged })
      expect(fs.existsSync(staged), `${dir}: the staged upload is removed`).toBe(false)
      expect(run.outputs.result, `${dir}\n${run.stdout}`).toBe('aborted')
      // The link's own cases are refused already with the inputs; the rest by the release-dir check once PM2's list is read.
      const r = report(run)
      expect(r.message).toMatch(why)
      if (r.title !== 'Deploy refused') expect(r.title).toBe('release-dir refused')
      if (r.title === 'release-dir refused') expect(r.message).toMatch(/nothing was uploaded, linked, prepared or changed/)
      expect(r.commands).toEqual([])
    }
    expect(disk()).toEqual(before)
    expect(d.fingerprint()).toEqual(processes)
    expect(fs.realpathSync(link())).toBe(path.join(base, 'releases', 'v2'))
  })

  test('migrate runs under the lock, after the preflight and before the switch; a failing one aborts with the link untouched; skip-migrate skips it', async () => {
    const seen = path.join(d.dir, 'migrate-saw')
    const migrate = `echo "$(readlink ${link()}) $RELEASE_DIR $PREVIOUS_RELEASE_DIR" >> ${seen}`
    const live = fs.realpathSync(link())
    npmRelease(base, 'm1', port, pack)
    const bad = await deploy(d, inputs('m1', { migrate: 'echo "Error: relation users already exists" >&2\nexit 1' }))
    expect(bad.outputs.result, bad.stdout).toBe('aborted')
    expect(report(bad).title).toBe('Migrate failed')
    expect(report(bad).message).toMatch(/What the migration itself changed is its own: nothing undoes it/)
    expect(report(bad).commands).toEqual([])
    expect(fs.realpathSync(link())).toBe(live)
    const run = await deploy(d, inputs('m1', { migrate }))
    expect(run.outputs.result, run.stdout).toBe('deployed')
    // It saw the link still on the previous release: it ran before the switch.
    expect(fs.readFileSync(seen, 'utf8').trim()).toBe(`${live} ${path.join(base, 'releases', 'm1')} ${live}`)
    const order = Object.keys(report(run).timings)
    expect(order.indexOf('Plan and preflight')).toBeLessThan(order.indexOf('Migrate'))
    expect(order.indexOf('Migrate')).toBeLessThan(order.indexOf('Release switch'))
    expect(report(run).migrate).toMatchObject({ skipped: null, exitCode: 0 })
    npmRelease(base, 'm2', port, pack)
    const other = await deploy(d, inputs('m2', { migrate }), { 'INPUT_SKIP-MIGRATE': 'true' })
    expect(other.outputs.result, other.stdout).toBe('deployed')
    expect(other.stdout).toMatch(/migrate not run: the fleet runs it on its first host only/)
    expect(fs.readFileSync(seen, 'utf8').trim().split('\n')).toHaveLength(1)
  })

  test('a staged-upload set by hand outside the staging area is refused and never touched', async () => {
    const data = path.join(d.dir, 'not-an-upload')
    fs.mkdirSync(data)
    fs.writeFileSync(path.join(data, 'orders.db'), 'precious\n')
    const run = await deploy(d, inputs('v3'), { 'INPUT_STAGED-UPLOAD': data })
    expect(run.outputs.result, run.stdout).toBe('aborted')
    expect(run.stdout).toMatch(/staged-upload: .*not-an-upload is not in the staging area/)
    expect(fs.readFileSync(path.join(data, 'orders.db'), 'utf8')).toBe('precious\n')
    expect(fs.existsSync(path.join(base, 'releases', 'v3'))).toBe(false)
  })

  test('a staged upload becomes release-dir (across file systems too); refused or in a dry run it is removed and release-dir is never made', async () => {
    const stageRoot = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').isDirectory() ? fs.mkdtempSync('/dev/shm/pm2sd-stage-') : fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-stage-'))
    try {
      const staged = (name: string) => {
        const dir = path.join(stagingArea(stageRoot), name)
        const made = npmRelease(path.join(stageRoot, 'src'), name, port, pack)
        fs.renameSync(made, dir)
        return dir
      }
      // A dry run: the staged directory removed, release-dir never made.
      const s1 = staged('dry')
      const dry = await deploy(d, inputs('v3', { 'dry-run': 'true' }), { 'INPUT_STAGED-UPLOAD': s1 })
      expect(dry.outputs.result, dry.stdout).toBe('dry-run')
      expect(fs.existsSync(s1)).toBe(false)
      expect(fs.existsSync(path.join(base, 'releases', 'v3'))).toBe(false)
      // Refused (inside the live release): removed, nothing written.
      const s2 = staged('refused')
      const refused = await deploy(d, { ...inputs('x'), 'release-dir': path.join(base, 'releases', 'v2', 'sub') }, { 'INPUT_STAGED-UPLOAD': s2 })
      expect(refused.outputs.result, refused.stdout).toBe('aborted')
      expect(fs.existsSync(s2)).toBe(false)
      expect(fs.existsSync(path.join(base, 'releases', 'v2', 'sub'))).toBe(false)
      // A real deploy: an earlier, never-live copy of v3 is replaced by the upload.
      fs.mkdirSync(path.join(base, 'releases', 'v3', 'half-written'), { recursive: true })
      const s3 = staged('v3')
      const run = await deploy(d, inputs('v3'), { 'INPUT_STAGED-UPLOAD': s3 })
      expect(run.outputs.result, run.stdout).toBe('deployed')
      expect(run.stdout).toMatch(/the upload is now .*\/releases\/v3 \(an earlier copy of it, never live, was replaced\)/)
      expect(fs.existsSync(s3)).toBe(false)
      expect(fs.existsSync(path.join(base, 'releases', 'v3', 'half-written'))).toBe(false)
      expect(await until('v3 answering', async () => ((await get(port)) === 'hello from greet, v3' ? 'v3' : null))).toBe('v3')
    } finally {
      fs.rmSync(stageRoot, { recursive: true, force: true })
    }
  })
})

// ---------------------------------------------------------------- keep-releases beside shared/ and logs/

test('keep-releases removes only releases this app deployed: shared/, logs/ and a hand-made directory beside them stay', async () => {
  const d = newDaemon('prepare-keep')
  d.ping()
  const base = path.join(fs.realpathSync(d.dir), 'srv-app')
  const port = await freePort()
  // The layout of the issue: /srv/app/{current, v1, v2, v3, shared, logs}.
  fs.mkdirSync(path.join(base, 'logs'), { recursive: true })
  fs.writeFileSync(path.join(base, 'logs', 'app.log'), 'kept\n')
  fs.mkdirSync(path.join(base, 'manual-backup'))
  // The app's directory before its first deploy here: live once, never made live by this app, never pruned.
  fs.mkdirSync(path.join(base, 'legacy'))
  fs.symlinkSync(path.join(base, 'legacy'), path.join(base, 'current'))
  const release = (name: string) => {
    const dir = path.join(base, name)
    fs.mkdirSync(dir, { recursive: true })
    fs.copyFileSync(path.join(APPS, 'http-server.cjs'), path.join(dir, 'server.js'))
    fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [{ name: 'web-test', script: 'server.js', cwd: __dirname, env: { PORT: '${port}', RELEASE: '${name}' } }] }\n`)
    fs.writeFileSync(path.join(dir, '.env'), `RELEASE=${name}\n`)
  }
  const inputs = (name: string) => ({ app: 'web', 'current-link': path.join(base, 'current'), 'release-dir': path.join(base, name), 'shared-dir': path.join(base, 'shared'), shared: '.env', 'keep-releases': '1' })
  for (const name of ['v1', 'v2', 'v3']) {
    release(name)
    const run = await deploy(d, inputs(name))
    expect(run.outputs.result, run.stdout).toBe('deployed')
    if (name === 'v3') {
      const pruned = report(run).release!.pruned
      expect(pruned.map((p) => [path.basename(p.path), p.remove])).toEqual([
        ['v3', false],
        ['v2', false],
        ['v1', true]
      ])
    }
  }
  expect(fs.readdirSync(base).sort()).toEqual(['.v1.pm2-safe-deploy.lock', '.v2.pm2-safe-deploy.lock', '.v3.pm2-safe-deploy.lock', 'current', 'legacy', 'logs', 'manual-backup', 'shared', 'v2', 'v3'].filter((n) => fs.existsSync(path.join(base, n))).sort())
  expect(fs.existsSync(path.join(base, 'v1'))).toBe(false)
  expect(fs.existsSync(path.join(base, 'legacy'))).toBe(true)
  expect(fs.readFileSync(path.join(base, 'logs', 'app.log'), 'utf8')).toBe('kept\n')
  // The first deploy seeded shared/.env from v1's copy; it outlives v1.
  expect(fs.readFileSync(path.join(base, 'shared', '.env'), 'utf8')).toBe('RELEASE=v1\n')
})

// Promise 11: the record outlives the job. Runners delete RUNNER_TEMP when the job ends,
// so by default each run's snapshots and report go to their own directory under
// `<pm2-home>/pm2-safe-deploy/runs/` (0700, files 0600), beside the audit log, and only
// the newest KEEP_RUNS runs are kept there. A `snapshot-dir` the user sets is used as it
// is, and nothing in it is ever removed.
import fs from 'node:fs'
import path from 'node:path'
import { messageOf, UserError } from '../core/errors.js'
import { KEEP_RUNS, runDirName, runsToRemove } from '../core/retention.js'
import { defaultRunsRoot, envInputs, resolvePm2Home, shortPath, snapshotDirProblems, unusablePath, type InputReader, type Inputs } from './inputs.js'

export { defaultRunsRoot }

export interface RunDirTarget {
  /** The `snapshot-dir` the user set, resolved, or the default runs root. */
  snapshotDir: string
  /** True when `snapshotDir` is the default under PM2_HOME: one directory per run, pruned. */
  isDefault: boolean
  pm2Home: string
}

/**
 * Creates (once) and returns the directory this run writes to. The default lives in
 * PM2_HOME, which is never created here: a wrong PM2_HOME must not gain a directory.
 */
export function ensureRunDir(target: RunDirTarget, startedAt: Date, runTag: string): string {
  try {
    return makeRunDir(target, startedAt, runTag)
  } catch (err) {
    if (err instanceof UserError) throw err
    // Checked before the deploy starts (inputs.ts), so this is the disk refusing: still the user's to fix.
    const code = (err as NodeJS.ErrnoException).code
    throw new RunDirError(
      `Cannot create the run directory for snapshots and the report under ${shortPath(target.snapshotDir)} (${code ?? messageOf(err)}: ${unusablePath(code)}). ` +
        (target.isDefault ? 'Check `pm2-home`, or set `snapshot-dir` to a directory this job can write.' : 'Point `snapshot-dir` at a directory this job can write, or leave it empty.')
    )
  }
}

export class RunDirError extends UserError {}

function makeRunDir(target: RunDirTarget, startedAt: Date, runTag: string): string {
  if (!target.isDefault) {
    // Records only their owner reads: a directory this run makes is 0700.
    fs.mkdirSync(target.snapshotDir, { recursive: true, mode: 0o700 })
    return target.snapshotDir
  }
  if (!fs.existsSync(target.pm2Home)) {
    throw new RunDirError(`PM2_HOME ${shortPath(target.pm2Home)} does not exist, so the run directory under it was not made (is PM2_HOME right?)`)
  }
  const parent = path.dirname(target.snapshotDir)
  for (const dir of [parent, target.snapshotDir]) mkdirPrivate(dir)
  const dir = path.join(target.snapshotDir, runDirName(startedAt, runTag))
  mkdirPrivate(dir)
  return dir
}

function mkdirPrivate(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}

/** Removes the oldest run directories of the default root beyond `keep`; never `currentDir`. Returns what it removed. */
export function pruneRuns(root: string, currentDir: string, keep: number = KEEP_RUNS): string[] {
  if (path.dirname(currentDir) !== root) return []
  const names = fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)
  const removed: string[] = []
  for (const name of runsToRemove(names, path.basename(currentDir), keep)) {
    fs.rmSync(path.join(root, name), { recursive: true, force: true })
    removed.push(name)
  }
  return removed
}

/** The run directory target of parsed inputs. */
export function runDirTarget(inputs: Pick<Inputs, 'snapshotDir' | 'snapshotDirIsDefault' | 'pm2Home'>): RunDirTarget {
  return { snapshotDir: inputs.snapshotDir, isDefault: inputs.snapshotDirIsDefault, pm2Home: inputs.pm2Home }
}

/** Where the report of a run whose inputs did not parse goes: the same resolution, from the raw inputs. */
export function runDirTargetFromRawInputs(env: NodeJS.ProcessEnv, read: InputReader = envInputs(env)): RunDirTarget {
  const pm2Home = resolvePm2Home(read('pm2-home') ?? '', env)
  const raw = (read('snapshot-dir') ?? '').trim()
  const dir = raw === '' ? null : path.resolve(env.GITHUB_WORKSPACE || process.cwd(), raw)
  // A snapshot-dir that is itself the refused input (a file) cannot hold the report: the default can.
  if (dir === null || snapshotDirProblems(dir).length > 0) return { snapshotDir: defaultRunsRoot(pm2Home), isDefault: true, pm2Home }
  return { snapshotDir: dir, isDefault: false, pm2Home }
}

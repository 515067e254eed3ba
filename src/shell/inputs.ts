// Every input is read and validated here, once (SPEC "Inputs").
import fs from 'node:fs'
import { maskUrl } from '../core/mask-url.js'
import { UserError } from '../core/errors.js'
import os from 'node:os'
import path from 'node:path'
import * as core from '@actions/core'
import { z } from 'zod'
import { MAX_LINK_NAME_BYTES } from './release.js'
import { realPathOfMaybeMissing } from './stage.js'
import { isStagingPath, STAGED_UPLOAD_INPUT, UPLOAD_SKIPPED_INPUT } from '../core/internal-inputs.js'

export class InputError extends UserError {}

const bool = (name: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['true', 'false', 'yes', 'no', '1', '0', 'on', 'off'].includes(v), {
      message: `${name} must be true or false`
    })
    .transform((v) => ['true', 'yes', '1', 'on'].includes(v))

const seconds = (name: string, min: number) =>
  z
    .string()
    .trim()
    .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) >= min, {
      message: `${name} must be a number of seconds ≥ ${min}`
    })
    .transform(Number)

/** A health URL fetch can ask: checked before any change, not found unusable after the deploy. */
function healthUrlProblem(u: string, ctx: z.RefinementCtx): void {
  let why: string | null = null
  if (!/^https?:\/\/\S+$/.test(u)) why = 'it must start with http:// or https:// and hold no white space'
  else {
    try {
      new URL(u)
    } catch {
      why = 'it is not a valid URL (check the host, the port (1-65535) and any %-escapes)'
    }
  }
  if (why) ctx.addIssue({ code: 'custom', message: `each health-url must be an http:// or https:// URL: ${JSON.stringify(maskUrl(u))} is not: ${why}` })
}

const list = z.string().transform((v) =>
  v
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
)

const RawInputsSchema = z.object({
  app: z
    .string()
    .trim()
    .min(1, 'app is required: set it to the application name, e.g. `app: flyer-crawler`')
    .refine((v) => !/[\s/]/.test(v), 'app must not contain white space or "/"'),
  'environment-suffix': z
    .string()
    .trim()
    .refine((v) => !/[\s/]/.test(v), 'environment-suffix must not contain white space or "/"'),
  whitelist: list,
  ecosystem: z.string().trim(),
  'ecosystem-env': z
    .string()
    .trim()
    .refine((v) => /^[\w.-]*$/.test(v), 'ecosystem-env must be a plain name such as `production`'),
  'working-directory': z.string().trim(),
  strategy: z.enum(['reload', 'restart', 'recreate'], { message: 'strategy must be reload, restart or recreate' }),
  'stable-seconds': seconds('stable-seconds', 0),
  'timeout-seconds': seconds('timeout-seconds', 1),
  'health-url': list.pipe(z.array(z.string().superRefine(healthUrlProblem))),
  'foreign-restarts': z.enum(['fail', 'warn'], { message: 'foreign-restarts must be fail or warn' }),
  save: bool('save'),
  'dry-run': bool('dry-run'),
  'pm2-path': z.string().trim().min(1, 'pm2-path must not be empty: leave it out to use `pm2` from PATH'),
  'pm2-home': z.string().trim(),
  'lock-timeout-seconds': seconds('lock-timeout-seconds', 0),
  'snapshot-dir': z.string().trim(),
  'audit-log': z.string().trim(),
  'log-lines': z
    .string()
    .trim()
    .refine((v) => /^\d+$/.test(v), 'log-lines must be a whole number')
    .transform(Number),
  'require-app-prefix': bool('require-app-prefix'),
  'current-link': z.string().trim(),
  'release-dir': z.string().trim(),
  rollback: bool('rollback'),
  'keep-releases': z
    .string()
    .trim()
    .refine((v) => /^\d+$/.test(v), 'keep-releases must be a whole number (0 keeps every release)')
    .transform(Number),
  // Promise 15: the stage that makes a release complete before it can go live (src/deploy/prepare*).
  shared: list,
  'shared-dir': z.string().trim(),
  prepare: z.string(),
  'prepare-timeout-seconds': seconds('prepare-timeout-seconds', 1),
  migrate: z.string(),
  // Promise 16: an earlier release made live again.
  'rollback-to': z.string().trim(),
  adopt: bool('adopt'),
  // The remote inputs (promises 12 and 13) are read here as text; src/remote parses them for a remote deploy.
  'ssh-host': z.string(),
  'ssh-user': z.string().trim(),
  'ssh-key': z.string(),
  'ssh-known-hosts': z.string(),
  'ssh-jump': z.string().trim(),
  upload: z.string().trim(),
  'upload-exclude': z.string(),
  'ssh-env': z.string(),
  'hosts-per-batch': z.string(),
  'rollback-hosts': bool('rollback-hosts')
})

/** Defaults from SPEC.md; the same as action.yml, for runners that do not fill them in. */
export const INPUT_DEFAULTS: Record<keyof z.input<typeof RawInputsSchema>, string> = {
  app: '',
  'environment-suffix': '',
  whitelist: '',
  ecosystem: '',
  'ecosystem-env': '',
  'working-directory': '.',
  strategy: 'reload',
  'stable-seconds': '10',
  'timeout-seconds': '120',
  'health-url': '',
  'foreign-restarts': 'fail',
  save: 'true',
  'dry-run': 'false',
  'pm2-path': 'pm2',
  'pm2-home': '',
  'lock-timeout-seconds': '300',
  'snapshot-dir': '',
  'audit-log': '',
  'log-lines': '50',
  'require-app-prefix': 'true',
  'current-link': '',
  'release-dir': '',
  rollback: 'true',
  'keep-releases': '5',
  shared: '',
  'shared-dir': '',
  prepare: '',
  'prepare-timeout-seconds': '900',
  migrate: '',
  'rollback-to': '',
  adopt: 'false',
  'ssh-host': '',
  'ssh-user': '',
  'ssh-key': '',
  'ssh-known-hosts': '',
  'ssh-jump': '',
  upload: '',
  'upload-exclude': '.git',
  'ssh-env': '',
  'hosts-per-batch': '1',
  'rollback-hosts': 'true'
}

export interface Inputs {
  app: string
  suffix: string
  whitelist: string[]
  ecosystem: string | null
  ecosystemEnv: string | null
  workingDirectory: string
  strategy: 'reload' | 'restart' | 'recreate'
  stableSeconds: number
  timeoutSeconds: number
  healthUrls: string[]
  foreignRestarts: 'fail' | 'warn'
  save: boolean
  dryRun: boolean
  pm2Path: string
  pm2Home: string
  lockTimeoutSeconds: number
  /** The `snapshot-dir` input resolved, or `<pm2-home>/pm2-safe-deploy/runs` when it is empty. */
  snapshotDir: string
  /** True for the default: each run gets its own directory there, and the newest 100 runs are kept. */
  snapshotDirIsDefault: boolean
  auditLog: string | null
  logLines: number
  requireAppPrefix: boolean
  /** With `current-link` + `release-dir`: the release switch (promise 10); null otherwise. */
  release: ReleaseInputs | null
  rollback: boolean
  keepReleases: number
  /** `shared`: paths inside the release linked into `shared-dir` before `prepare` (promise 15). */
  shared: string[]
  /** `shared-dir` as given (empty: `shared` beside the releases' directory); resolved by the prepare stage. */
  sharedDir: string
  /** `prepare`: shell text for `sh -e` in the new release; null when empty. A secret may be inlined: never log it. */
  prepare: string | null
  prepareTimeoutSeconds: number
  /** `migrate`: shell text, once per deploy of a new release, under the lock; null when empty. */
  migrate: string | null
  /** `rollback-to`: `previous` or a release directory (promise 16); null when empty. */
  rollbackTo: string | null
  /** `adopt`: own names are ours wherever they run (SPEC "Who owns what"). */
  adopt: boolean
}

export interface ReleaseInputs {
  /** The symlink, absolute (not resolved: it is what gets switched). */
  currentLink: string
  /** The release to make live, as its real path. */
  releaseDir: string
  /** The real path the link names now; null on a first deploy (no link yet). */
  live: string | null
  /** release-dir is already live: deploy it again, no switch, nothing to roll back to. */
  redeploy: boolean
  /** The `working-directory` input when relative (taken inside each release); null when absolute. */
  relativeWorkingDirectory: string | null
}

/** Reads one input by its action.yml name: core.getInput in the action, envInputs in tests. */
export type InputReader = (name: string) => string | undefined

/** The inputs of an environment other than the process's (tests, benches): INPUT_<NAME> as the runner sets it. */
export function envInputs(env: NodeJS.ProcessEnv): InputReader {
  return (name) => env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`]
}

/** Reads an input of `env` (INPUT_<NAME>, upper-cased, spaces to _). */
export function readRawInput(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return envInputs(env)(name)
}

/** The action's inputs, read through @actions/core and validated once. */
export function getInputs(resolvePrevious?: PreviousResolver): Inputs {
  return parseInputs(process.env, (name) => core.getInput(name), resolvePrevious)
}

/**
 * Parses and validates all inputs from the environment. Paths are resolved here
 * (working directory, PM2_HOME, snapshot dir, audit log) so the rest of the action
 * works with absolute paths only.
 */
export function parseInputs(env: NodeJS.ProcessEnv = process.env, read: InputReader = envInputs(env), resolvePrevious: PreviousResolver = noHistory): Inputs {
  const raw: Record<string, string> = {}
  for (const [name, fallback] of Object.entries(INPUT_DEFAULTS)) {
    const value = read(name)
    raw[name] = value === undefined || (value.trim() === '' && fallback !== '') ? fallback : value
  }
  const parsed = RawInputsSchema.safeParse(raw)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `- ${i.path.length ? `${String(i.path[0])}: ` : ''}${i.message}`)
    throw new InputError(`Invalid inputs:\n${lines.join('\n')}`)
  }
  const v = parsed.data
  const workspace = env.GITHUB_WORKSPACE || process.cwd()
  // With a staged upload (promise 15) release-dir is made only inside the guarded run, and a dry run skips the upload: it need not exist yet.
  const staged = releaseComesLater(env, v['dry-run'])
  const home = homeDir(env)
  const pm2Home = resolvePm2Home(v['pm2-home'], env)
  const auditLog = resolveAuditLog(v['audit-log'], pm2Home, env)
  const rollbackTo = v['rollback-to'] || null
  const releaseInput = rollbackTo
    ? rollbackToRelease(rollbackTo, { link: v['current-link'], releaseDir: v['release-dir'], workspace, home, auditLog, app: v.app, suffix: v['environment-suffix'] }, resolvePrevious)
    : v['release-dir']
  const release = resolveReleaseInputs(v['current-link'], releaseInput, v['working-directory'], workspace, v['keep-releases'], rollbackTo ? 'rollback-to' : 'release-dir', staged && !rollbackTo)
  if (rollbackTo && release?.redeploy) fail(`rollback-to: ${release.releaseDir} is the live release already (current-link names it): name an earlier release, or \`previous\``)
  // A relative working-directory is taken inside the release being deployed.
  const workingDirectory = path.resolve(release && release.relativeWorkingDirectory !== null ? release.releaseDir : workspace, v['working-directory'])
  const snapshotDirIsDefault = v['snapshot-dir'] === ''
  const snapshotDir = snapshotDirIsDefault ? defaultRunsRoot(pm2Home) : path.resolve(workspace, expandHome(v['snapshot-dir'], home))
  const conflicts = [...conflictingInputs(v['stable-seconds'], v['timeout-seconds']), ...(snapshotDirIsDefault ? [] : snapshotDirProblems(snapshotDir))]
  if (conflicts.length > 0) throw new InputError(`Invalid inputs:\n${conflicts.map((c) => `- ${c}`).join('\n')}`)
  return {
    app: v.app,
    suffix: v['environment-suffix'],
    whitelist: v.whitelist,
    ecosystem: v.ecosystem ? path.resolve(workingDirectory, v.ecosystem) : null,
    ecosystemEnv: v['ecosystem-env'] || null,
    workingDirectory,
    strategy: v.strategy,
    stableSeconds: v['stable-seconds'],
    timeoutSeconds: v['timeout-seconds'],
    healthUrls: v['health-url'],
    foreignRestarts: v['foreign-restarts'],
    save: v.save,
    dryRun: v['dry-run'],
    pm2Path: expandHome(v['pm2-path'], home),
    pm2Home,
    lockTimeoutSeconds: v['lock-timeout-seconds'],
    snapshotDir,
    snapshotDirIsDefault,
    auditLog,
    logLines: v['log-lines'],
    requireAppPrefix: v['require-app-prefix'],
    release,
    rollback: v.rollback,
    keepReleases: v['keep-releases'],
    shared: v.shared,
    sharedDir: v['shared-dir'],
    prepare: v.prepare.trim() ? v.prepare : null,
    prepareTimeoutSeconds: v['prepare-timeout-seconds'],
    migrate: v.migrate.trim() ? v.migrate : null,
    rollbackTo,
    adopt: v.adopt
  }
}

function fail(msg: string): never {
  throw new InputError(`Invalid inputs:\n- ${msg}`)
}

/** What `rollback-to: previous` is resolved from (shell/rollback-to.ts reads the audit log). */
export interface PreviousQuery {
  /** `current-link`, absolute, and the real path it names now (null: none). */
  link: string
  live: string | null
  auditLog: string | null
  app: string
  suffix: string
}

/** Resolves `previous` to a release directory, or throws the reason (an `aborted` run). */
export type PreviousResolver = (q: PreviousQuery) => string

const noHistory: PreviousResolver = () => fail('rollback-to: previous needs the audit log, which this caller does not read: pass a release directory')

/**
 * `rollback-to` (promise 16): the release directory it names, before anything changes. It needs
 * `current-link` and excludes `release-dir` (`upload` is checked on the runner, remote/inputs.ts).
 */
function rollbackToRelease(
  value: string,
  o: { link: string; releaseDir: string; workspace: string; home: string; auditLog: string | null; app: string; suffix: string },
  resolvePrevious: PreviousResolver
): string {
  if (o.releaseDir) {
    fail('rollback-to and release-dir are both set: rollback-to makes an earlier release live again, release-dir deploys a new one. Set one of them per run (leave release-dir empty when rollback-to is set)')
  }
  if (!o.link) fail('rollback-to needs current-link: set `current-link` to the symlink that names the live release (e.g. /var/www/app/current)')
  if (value !== 'previous') return path.resolve(o.workspace, expandHome(value, o.home))
  const link = path.resolve(o.workspace, o.link)
  let live: string | null = null
  try {
    live = fs.lstatSync(link).isSymbolicLink() ? fs.realpathSync(link) : null
  } catch {
    // missing or dangling: nothing is live, the resolver says so
  }
  return resolvePrevious({ link, live, auditLog: o.auditLog, app: o.app, suffix: o.suffix })
}

/** Whether release-dir may be missing: a staged upload (only from the agent's staging area) makes it, or a dry run skipped the upload. */
function releaseComesLater(env: NodeJS.ProcessEnv, dryRun: boolean): boolean {
  const stagedPath = env[`INPUT_${STAGED_UPLOAD_INPUT.toUpperCase()}`]?.trim() ?? ''
  if (stagedPath && !isStagingPath(stagedPath)) {
    fail(`${STAGED_UPLOAD_INPUT}: ${shortPath(stagedPath)} is not in the staging area of an upload (~/.cache/pm2-safe-deploy/staging/). The action sets this input itself on a host over SSH: remove \`${STAGED_UPLOAD_INPUT}\` from the step's \`with:\`, and use \`upload\` with \`ssh-host\``)
  }
  return stagedPath !== '' || (dryRun && env[`INPUT_${UPLOAD_SKIPPED_INPUT.toUpperCase()}`]?.trim() === 'true')
}

/**
 * Checks `current-link` and `release-dir` on disk before anything else runs: both or
 * neither; an existing link must be a symlink (missing is a first deploy); the release
 * must be an existing directory reached by its real path, not through the link.
 */
export function resolveReleaseInputs(
  linkInput: string,
  releaseInput: string,
  workingDirectoryInput: string,
  workspace: string,
  keepReleases: number,
  /** Which input named the release: `release-dir`, or `rollback-to` (promise 16). */
  releaseName: 'release-dir' | 'rollback-to' = 'release-dir',
  /** A staged upload becomes release-dir later in the run: a missing release-dir is not an error. */
  staged = false
): ReleaseInputs | null {
  // keep-releases (default 5) applies only with a release switch: without one it has nothing to prune.
  void keepReleases
  if (!linkInput && !releaseInput) return null
  if (!releaseInput) fail('current-link is set but release-dir is not: set `release-dir` to the built release to make live, or remove `current-link`')
  if (!linkInput) fail('release-dir is set but current-link is not: set `current-link` to the symlink that names the live release (e.g. /var/www/app/current)')
  const currentLink = path.resolve(workspace, linkInput)
  const releaseAbs = path.resolve(workspace, releaseInput)
  let live: string | null = null
  let linkStat: fs.Stats | null = null
  if (Buffer.byteLength(path.basename(currentLink)) > MAX_LINK_NAME_BYTES) {
    fail(`current-link: the name ${shortPath(path.basename(currentLink))} is too long: the switch needs a temporary link beside it with a longer name. Use a name of at most ${MAX_LINK_NAME_BYTES} bytes, e.g. \`current\``)
  }
  try {
    linkStat = fs.lstatSync(currentLink)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') fail(`current-link: ${shortPath(currentLink)} cannot be used (${code}: ${unusablePath(code)})`)
    // no link yet: a first deploy, the parent must exist for the link to be created
    if (!isDirectory(path.dirname(currentLink))) fail(`current-link: ${shortPath(path.dirname(currentLink))} (the directory of ${shortPath(currentLink)}) does not exist`)
  }
  if (linkStat && !linkStat.isSymbolicLink()) {
    fail(
      `current-link: ${currentLink} exists but is not a symlink (a ${linkStat.isDirectory() ? 'directory' : 'file'}). ` +
        'Move it into the releases directory and replace it with a symlink to it (`ln -sfn <release> <link>`), or fix `current-link`'
    )
  }
  if (linkStat) {
    try {
      live = fs.realpathSync(currentLink)
    } catch {
      // a dangling link: no live release to keep or roll back to
      live = null
    }
  }
  if (!isDirectory(releaseAbs) && !(staged && !pathExists(releaseAbs))) {
    fail(releaseName === 'rollback-to' ? `rollback-to: ${releaseAbs} does not exist or is not a directory: name a release directory that is on the host (see the releases table of the last run), or \`previous\`` : `release-dir: ${releaseAbs} does not exist or is not a directory: build the release into it before the deploy step`)
  }
  const releaseDir = realPathOfMaybeMissing(releaseAbs)
  if (releaseAbs === currentLink || releaseAbs.startsWith(currentLink + path.sep)) {
    fail(`${releaseName}: ${releaseAbs} goes through current-link ${currentLink}: set it to the release directory itself (e.g. ${releaseDir} or releases/<sha>)`)
  }
  const realLink = path.join(fs.realpathSync(path.dirname(currentLink)), path.basename(currentLink))
  if (realLink.startsWith(releaseDir + path.sep)) {
    fail(`${releaseName}: ${releaseDir} contains current-link ${currentLink}: set it to one release directory (e.g. releases/<sha>), not the app's root`)
  }
  return {
    currentLink,
    releaseDir,
    live,
    redeploy: live === releaseDir,
    relativeWorkingDirectory: path.isAbsolute(workingDirectoryInput) ? null : workingDirectoryInput
  }
}

function pathExists(p: string): boolean {
  try {
    fs.lstatSync(p)
    return true
  } catch {
    return false
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** Inputs each valid alone that cannot work together. */
function conflictingInputs(stableSeconds: number, timeoutSeconds: number): string[] {
  if (stableSeconds < timeoutSeconds) return []
  return [
    `stable-seconds (${stableSeconds}) must be less than timeout-seconds (${timeoutSeconds}): own processes must come up and then stay up ` +
      `for stable-seconds within timeout-seconds. Raise timeout-seconds (e.g. \`timeout-seconds: ${Math.ceil(stableSeconds) + 60}\`) or lower stable-seconds.`
  ]
}

/** A snapshot-dir that cannot be a directory: it, or the nearest part of its path that exists, is not one. */
export function snapshotDirProblems(dir: string): string[] {
  for (let p = dir; ; p = path.dirname(p)) {
    let stat: fs.Stats | null = null
    try {
      stat = fs.statSync(p)
    } catch (err) {
      // Missing, or under a file (ENOTDIR): look at its parent, which names the file. Anything else cannot be made either.
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return [`snapshot-dir: ${shortPath(dir)} cannot be used (${code}: ${unusablePath(code)}). Point snapshot-dir at a directory this job can create, or leave it empty for <pm2-home>/pm2-safe-deploy/runs/.`]
    }
    if (stat) {
      if (stat.isDirectory()) return []
      const what = p === dir ? `${dir} is a file, not a directory` : `${p} (in its path) is a file, not a directory`
      return [`snapshot-dir: ${what}. Point snapshot-dir at a directory, or leave it empty for <pm2-home>/pm2-safe-deploy/runs/.`]
    }
    if (path.dirname(p) === p) return []
  }
}

/** A path as the user wrote it, cut short when it is too long to read in a message. */
export function shortPath(p: string): string {
  return p.length > 200 ? `${p.slice(0, 100)}…${p.slice(-60)} (${p.length} characters)` : p
}

/** What an fs error code on a path the user gave means, in words. */
export function unusablePath(code: string | undefined): string {
  if (code === 'ENAMETOOLONG') return 'a name in it is longer than 255 bytes, or the whole path longer than 4096'
  if (code === 'EACCES' || code === 'EPERM') return 'this job may not read or write there'
  if (code === 'ELOOP') return 'it goes through a symlink loop'
  if (code === 'ENOTDIR') return 'part of it is a file, not a directory'
  return 'the system refused it'
}

/** snapshot-dir's default: `<pm2-home>/pm2-safe-deploy/runs`, beside the audit log (runners delete RUNNER_TEMP). */
export function defaultRunsRoot(pm2Home: string): string {
  return path.join(pm2Home, 'pm2-safe-deploy', 'runs')
}

export const DEFAULT_AUDIT_FILE_NAME = 'pm2-safe-deploy.audit.jsonl'

const homeDir = (env: NodeJS.ProcessEnv) => env.HOME || os.homedir()

function expandHome(p: string, home: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(home, p.slice(1)) : p
}

/** PM2_HOME from the `pm2-home` input: empty means $PM2_HOME, else ~/.pm2. */
export function resolvePm2Home(input: string, env: NodeJS.ProcessEnv): string {
  const home = homeDir(env)
  return path.resolve(expandHome(input.trim() || env.PM2_HOME || path.join(home, '.pm2'), home))
}

/** The audit log from the `audit-log` input: null for `off`; empty means the default file in PM2_HOME. */
export function resolveAuditLog(input: string, pm2Home: string, env: NodeJS.ProcessEnv): string | null {
  const raw = input.trim()
  if (raw.toLowerCase() === 'off') return null
  return path.resolve(pm2Home, expandHome(raw || DEFAULT_AUDIT_FILE_NAME, homeDir(env)))
}

// Promise 6: one deploy at a time per PM2 daemon. The lock lives beside the daemon,
// in PM2_HOME, so it serialises deploys from any repository, workflow or matrix job.
//
// How the file is handled, and why:
// - Taking the lock is one atomic step: the record is written in full to a private
//   temp file, then hard-linked to the lock name (link(2) fails if the name exists).
//   A reader never sees a half-written lock from this code. Where hard links are not
//   supported it falls back to an exclusive create (O_EXCL) followed by the write.
// - Only the holder removes a live lock. A lock whose holder process is gone (same
//   host, pid not running, or the pid now belongs to a younger process) is stale and
//   is removed by whoever *claims* it: a claim is an exclusive file named after that
//   lock's identity (its token), so exactly one waiter removes one stale lock and no
//   one can remove a fresh lock taken after it (a fresh lock has another identity). The
//   post step releasing a dead main step's lock goes through the same claim.
// - A claim whose claimant died is passed over by claiming the next generation.
// - A lock file that is not JSON (empty or cut short: its writer was killed between
//   create and write, or a disk filled up) is stale once older than a grace period;
//   its identity is its inode and change time. A lock that is JSON but not one this
//   code understands (another version?) is never broken: the error names the file.
import { UserError } from '../core/errors.js'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'

export const LOCK_FILE_NAME = 'pm2-safe-deploy.lock'
/** An unreadable lock file younger than this may still be being written. */
export const UNREADABLE_GRACE_MS = 10_000
/** Leftover temp and claim files older than this are removed. */
const LEFTOVER_MAX_AGE_MS = 10 * 60_000
const MAX_CLAIM_GENERATIONS = 16

const nullableString = z.string().nullable().catch(null)

/** The lock file's record. token, pid and host are required to judge it; the rest is for people. */
export const LockHolderSchema = z.object({
  token: z.string().min(1),
  pid: z.number().int().positive(),
  host: z.string().min(1),
  /** Start time of the holder process (Linux: clock ticks after boot), to tell a reused pid. */
  procStart: nullableString,
  repository: nullableString,
  workflow: nullableString,
  runId: nullableString,
  runUrl: nullableString,
  job: nullableString,
  app: z.string().catch(''),
  suffix: z.string().catch(''),
  since: z.string().catch('')
})
export type LockHolder = z.infer<typeof LockHolderSchema>

/** What the lock file holds right now. `id` names that one lock file, whoever wrote it. */
export type LockState =
  | { kind: 'absent' }
  | { kind: 'held'; id: string; holder: LockHolder; ageMs: number }
  /** Empty or not JSON: a writer died mid-way (or the disk filled up). */
  | { kind: 'unreadable'; id: string; ageMs: number }
  /** JSON this code does not understand: never broken. */
  | { kind: 'foreign'; id: string; ageMs: number; text: string }

export interface HostLock {
  file: string
  holder: LockHolder
  /** Removes the lock file if it is still this holder's. Safe to call twice. */
  release(): boolean
}

export class LockError extends UserError {}
export class LockTimeoutError extends LockError {}

export interface LockLog {
  info(msg: string): void
  warning(msg: string): void
}

export function newLockToken(): string {
  return crypto.randomUUID()
}

export function lockFilePath(pm2Home: string): string {
  return path.join(pm2Home, LOCK_FILE_NAME)
}

/** Linux: the start time of `pid` in clock ticks after boot (field 22 of /proc/<pid>/stat). */
export function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] ?? null
  } catch {
    return null
  }
}

/** Reads the lock file once, through one descriptor so content and identity agree. */
export function readLock(file: string, now = Date.now()): LockState {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' }
    throw err
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true })
    const text = fs.readFileSync(fd, 'utf8')
    const ageMs = Math.max(0, now - Number(st.mtimeMs))
    const fileId = `i${st.ino}-c${st.ctimeNs}`
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return { kind: 'unreadable', id: fileId, ageMs }
    }
    const parsed = LockHolderSchema.safeParse(json)
    if (!parsed.success) return { kind: 'foreign', id: fileId, ageMs, text: text.slice(0, 300) }
    return { kind: 'held', id: `t${parsed.data.token}`, holder: parsed.data, ageMs }
  } finally {
    fs.closeSync(fd)
  }
}

/** The holder, when the lock file holds a record this code understands. */
export function readLockHolder(file: string): LockHolder | null {
  const state = readLock(file)
  return state.kind === 'held' ? state.holder : null
}

/**
 * A holder is alive while its process exists on this host and is the same process
 * (not a later one that got the pid). On another host it cannot be told: alive.
 */
export function holderAlive(holder: Pick<LockHolder, 'pid' | 'host' | 'procStart'>, host: string = os.hostname()): boolean {
  if (holder.host !== host) return true
  try {
    process.kill(holder.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (holder.procStart) {
    const start = processStart(holder.pid)
    if (start !== null && start !== holder.procStart) return false
  }
  return true
}

export function describeHolder(h: LockHolder): string {
  const who = [h.repository, h.workflow, h.job].filter(Boolean).join(' / ') || 'a deploy'
  return `${who} (app ${h.app}${h.suffix}, run ${h.runId ?? '?'}${h.runUrl ? ` ${h.runUrl}` : ''}, pid ${h.pid} on ${h.host}, since ${h.since})`
}

/** Why the lock in `state` may be removed by someone other than its holder; null: it may not. */
export function staleReason(state: LockState, host: string, graceMs = UNREADABLE_GRACE_MS): string | null {
  if (state.kind === 'held') {
    return holderAlive(state.holder, host) ? null : `its holder is gone: ${describeHolder(state.holder)}`
  }
  if (state.kind === 'unreadable' && state.ageMs >= graceMs) {
    return `it is empty or cut short and ${Math.round(state.ageMs / 1000)} s old (its writer died while taking it)`
  }
  return null
}

/**
 * Creates `file` with `content`, all at once, only if it does not exist. False if it
 * exists. Other errors are thrown.
 */
export function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${crypto.randomUUID()}.tmp`
  fs.writeFileSync(tmp, content, { flag: 'wx', mode: 0o644 })
  try {
    fs.linkSync(tmp, file)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err
  } finally {
    fs.rmSync(tmp, { force: true })
  }
  // No hard links here: exclusive create, then write (a reader may see it empty for an instant).
  let fd: number
  try {
    fd = fs.openSync(file, 'wx', 0o644)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    fs.writeSync(fd, content)
  } finally {
    fs.closeSync(fd)
  }
  return true
}

const ClaimSchema = z.object({ pid: z.number().int().positive(), host: z.string(), procStart: nullableString })

function claimPrefix(file: string, id: string): string {
  return `${file}.claim-${id.replace(/[^\w-]/g, '_')}.`
}

/**
 * Removes the lock `observed` if it is still the lock file, as the one claimant of
 * that lock. Returns true if it removed it; false if it is gone already, was replaced,
 * or another live claimant is removing it.
 */
export function removeStaleLock(file: string, observed: Exclude<LockState, { kind: 'absent' }>, host: string = os.hostname()): boolean {
  const prefix = claimPrefix(file, observed.id)
  const me = JSON.stringify({ pid: process.pid, host, procStart: processStart(process.pid) }) + '\n'
  let claim: string | null = null
  for (let gen = 0; gen < MAX_CLAIM_GENERATIONS && !claim; gen++) {
    const candidate = `${prefix}${gen}`
    if (createExclusive(candidate, me)) {
      claim = candidate
      break
    }
    // Someone claimed this generation: wait for them unless they are dead.
    let other: z.infer<typeof ClaimSchema> | null = null
    let ageMs = 0
    try {
      ageMs = Date.now() - fs.statSync(candidate).mtimeMs
      other = ClaimSchema.parse(JSON.parse(fs.readFileSync(candidate, 'utf8')))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false // finished meanwhile
      if (ageMs < UNREADABLE_GRACE_MS) return false
    }
    if (other && holderAlive(other, host)) return false
  }
  if (!claim) return false
  try {
    const now = readLock(file)
    if (now.kind === 'absent' || now.id !== observed.id) return false
    fs.unlinkSync(file)
    return true
  } finally {
    // The lock `observed` is gone for good (identities never repeat): every claim on it is moot.
    removeClaims(file, observed.id)
  }
}

function removeClaims(file: string, id: string): void {
  const dir = path.dirname(file)
  const prefix = path.basename(claimPrefix(file, id))
  let names: string[] = []
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  // A `.tmp` is another claimant's write in flight (createExclusive links it next): its writer removes it, or the sweep does.
  for (const name of names) if (name.startsWith(prefix) && !name.endsWith('.tmp')) fs.rmSync(path.join(dir, name), { force: true })
}

/** Removes temp files of killed writers and claims on locks that no longer exist. */
export function sweepLeftovers(file: string, current: LockState, now = Date.now()): void {
  const dir = path.dirname(file)
  const base = path.basename(file)
  const currentClaims = current.kind === 'absent' ? null : path.basename(claimPrefix(file, current.id))
  let names: string[] = []
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.`) || name === base) continue
    const isTmp = name.endsWith('.tmp')
    const isClaim = name.startsWith(`${base}.claim-`) && (currentClaims === null || !name.startsWith(currentClaims))
    if (!isTmp && !isClaim) continue
    try {
      const full = path.join(dir, name)
      if (now - fs.statSync(full).mtimeMs > LEFTOVER_MAX_AGE_MS) fs.rmSync(full, { force: true })
    } catch {
      // gone already
    }
  }
}

/** Releases `file` if it still names `token`; for the holder itself, while it runs. */
export function releaseIfHeld(file: string, token: string): boolean {
  let state: LockState
  try {
    state = readLock(file)
  } catch {
    return false
  }
  if (state.kind !== 'held' || state.holder.token !== token) return false
  try {
    fs.unlinkSync(file)
    return true
  } catch {
    return false
  }
}

export type PostRelease =
  | { outcome: 'released'; holder: LockHolder }
  | { outcome: 'not-held'; holder: LockHolder | null; detail: string }
  | { outcome: 'holder-running'; holder: LockHolder }

/**
 * For the post step: releases the lock `token` names if that holder's process is gone.
 * Never touches another deploy's lock, nor one whose holder still runs.
 */
export function releaseAfterMainStep(file: string, token: string, host: string = os.hostname()): PostRelease {
  const state = readLock(file)
  if (state.kind === 'absent') return { outcome: 'not-held', holder: null, detail: 'the host lock was already released' }
  if (state.kind !== 'held') return { outcome: 'not-held', holder: null, detail: 'the lock file is not this job’s' }
  if (state.holder.token !== token) return { outcome: 'not-held', holder: state.holder, detail: 'the host lock belongs to another deploy' }
  if (holderAlive(state.holder, host)) return { outcome: 'holder-running', holder: state.holder }
  return removeStaleLock(file, state, host)
    ? { outcome: 'released', holder: state.holder }
    : { outcome: 'not-held', holder: null, detail: 'another deploy is taking the stale lock over, or it was released meanwhile' }
}

export interface AcquireOptions {
  pm2Home: string
  /** Another lock file than the daemon's (the per-release-directory lock of promise 15). */
  file?: string
  /** What the lock guards, for the waiting lines: `this PM2 daemon` unless given. */
  subject?: string
  holder: Omit<LockHolder, 'since' | 'pid' | 'token' | 'procStart'> & { token?: string }
  timeoutSeconds: number
  log: LockLog
  pollMs?: number
  /** How often to repeat that it is still waiting. */
  remindMs?: number
  graceMs?: number
  /**
   * Runs once, before the first wait on another deploy's lock: checks that need no lock
   * fail then, not after minutes of waiting. An error it throws ends the wait.
   */
  beforeWaiting?: () => Promise<void>
}

/**
 * Takes the lock, waiting up to `timeoutSeconds` for a live holder; a stale lock is
 * taken over with a warning. The lock is also released when the process exits
 * (uncaught error, process.exit in a signal handler); only SIGKILL leaves it behind.
 */
export async function acquireHostLock(opts: AcquireOptions): Promise<HostLock> {
  const file = opts.file ?? lockFilePath(opts.pm2Home)
  const subject = opts.subject ?? 'this PM2 daemon'
  const holder: LockHolder = {
    ...opts.holder,
    host: opts.holder.host || os.hostname(),
    token: opts.holder.token ?? newLockToken(),
    pid: process.pid,
    procStart: processStart(process.pid),
    since: ''
  }
  const startedAt = Date.now()
  const deadline = startedAt + opts.timeoutSeconds * 1000
  const pollMs = opts.pollMs ?? 250
  const remindMs = opts.remindMs ?? 30_000
  let announced = ''
  let lastReminder = startedAt
  let swept = false
  for (;;) {
    holder.since = new Date().toISOString()
    let created: boolean
    try {
      created = createExclusive(file, JSON.stringify(holder) + '\n')
    } catch (err) {
      throw new LockError(
        `Cannot create the host lock ${file}: ${(err as Error).message}. ` +
          'The action must run as the user who owns the PM2 daemon, with write access to its PM2_HOME (`pm2-home`).'
      )
    }
    if (created) return heldLock(file, holder)

    let state: LockState
    try {
      state = readLock(file)
    } catch (err) {
      throw new LockError(`Cannot read the host lock ${file}: ${(err as Error).message}. Check the owner and permissions of PM2_HOME.`)
    }
    if (state.kind === 'absent') continue // released just now: try again at once
    if (!swept) {
      sweepLeftovers(file, state)
      swept = true
    }
    const stale = staleReason(state, holder.host, opts.graceMs)
    if (stale) {
      if (removeStaleLock(file, state, holder.host)) {
        opts.log.warning(`Took over a stale deploy lock ${file}: ${stale}.`)
        continue
      }
    } else if (state.id !== announced) {
      if (announced === '' && opts.beforeWaiting) await opts.beforeWaiting()
      opts.log.info(`Waiting for another deploy on ${subject} to finish: ${describeState(state)}`)
      announced = state.id
      lastReminder = Date.now()
    } else if (Date.now() - lastReminder >= remindMs) {
      opts.log.info(`Still waiting (${Math.round((Date.now() - startedAt) / 1000)} s of ${opts.timeoutSeconds} s) for ${describeState(state)}`)
      lastReminder = Date.now()
    }
    if (Date.now() >= deadline) throw timeoutError(file, state, opts.timeoutSeconds, subject)
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, deadline - Date.now()))))
  }
}

function describeState(state: Exclude<LockState, { kind: 'absent' }>): string {
  switch (state.kind) {
    case 'held':
      return describeHolder(state.holder)
    case 'unreadable':
      return 'a deploy that is writing the lock file right now'
    case 'foreign':
      return `an unrecognised lock record (${JSON.stringify(state.text)})`
  }
}

function timeoutError(file: string, state: Exclude<LockState, { kind: 'absent' }>, timeoutSeconds: number, subject: string): LockTimeoutError {
  const fix =
    state.kind === 'foreign'
      ? `It was not written by this version of pm2-safe-deploy. If no deploy is running on this daemon, delete ${file}.`
      : 'Wait for it to finish or raise `lock-timeout-seconds`; never delete the lock file while that deploy runs ' +
        '(a lock whose holder process is gone is taken over automatically).'
  return new LockTimeoutError(
    `Another deploy holds the lock on ${subject} (${file}): ${describeState(state)}. ` +
      `Gave up after lock-timeout-seconds (${timeoutSeconds} s); nothing was changed. ${fix}`
  )
}

function heldLock(file: string, holder: LockHolder): HostLock {
  let released = false
  const release = (): boolean => {
    if (released) return false
    released = true
    process.removeListener('exit', release)
    return releaseIfHeld(file, holder.token)
  }
  process.on('exit', release)
  return { file, holder, release }
}

// Promise 6: one deploy at a time per PM2 daemon. The lock lives beside the daemon,
// in PM2_HOME, so it serialises deploys from any repository, workflow or matrix job.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export const LOCK_FILE_NAME = 'pm2-safe-deploy.lock'

export interface LockHolder {
  token: string
  repository: string | null
  workflow: string | null
  runId: string | null
  runUrl: string | null
  job: string | null
  app: string
  suffix: string
  pid: number
  host: string
  since: string
}

export interface HostLock {
  file: string
  holder: LockHolder
  /** Removes the lock file if it is still this holder's. Safe to call twice. */
  release(): boolean
}

export class LockTimeoutError extends Error {}

export interface LockLog {
  info(msg: string): void
  warning(msg: string): void
}

export function newLockToken(): string {
  return crypto.randomUUID()
}

export function readLockHolder(file: string): LockHolder | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder
  } catch {
    return null
  }
}

/** A holder is alive while its process exists on this host. */
export function holderAlive(holder: LockHolder, host: string): boolean {
  if (holder.host !== host) return true // cannot tell for another host: never break it
  try {
    process.kill(holder.pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function describeHolder(h: LockHolder): string {
  const who = [h.repository, h.workflow, h.job].filter(Boolean).join(' / ') || 'a deploy'
  return `${who} (app ${h.app}${h.suffix}, run ${h.runId ?? '?'}${h.runUrl ? ` ${h.runUrl}` : ''}, pid ${h.pid} on ${h.host}, since ${h.since})`
}

/** Removes the lock file only if it still names `token`. */
export function releaseIfHeld(file: string, token: string): boolean {
  const holder = readLockHolder(file)
  if (!holder || holder.token !== token) return false
  try {
    fs.unlinkSync(file)
    return true
  } catch {
    return false
  }
}

/**
 * Takes the lock with an atomic exclusive create, waiting up to `timeoutSeconds` for a
 * live holder. A holder whose process is gone is taken over with a warning; the
 * takeover itself is serialised by a second exclusive file so two waiters cannot both
 * remove the stale lock and one of them remove the other's fresh one.
 */
export async function acquireHostLock(opts: {
  pm2Home: string
  holder: Omit<LockHolder, 'since' | 'pid' | 'token'> & { token?: string }
  timeoutSeconds: number
  log: LockLog
  pollMs?: number
}): Promise<HostLock> {
  const file = path.join(opts.pm2Home, LOCK_FILE_NAME)
  const holder: LockHolder = { ...opts.holder, token: opts.holder.token ?? newLockToken(), pid: process.pid, since: '' }
  const deadline = Date.now() + opts.timeoutSeconds * 1000
  const pollMs = opts.pollMs ?? 250
  let announced = ''
  for (;;) {
    holder.since = new Date().toISOString()
    try {
      const fd = fs.openSync(file, 'wx', 0o644)
      fs.writeSync(fd, JSON.stringify(holder) + '\n')
      fs.closeSync(fd)
      return { file, holder, release: () => releaseIfHeld(file, holder.token) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const current = readLockHolder(file)
    if (current && !holderAlive(current, holder.host)) {
      takeOverStale(file, current, opts.log)
      continue
    }
    if (current && announced !== current.token) {
      opts.log.info(`Waiting for another deploy on this PM2 daemon to finish: ${describeHolder(current)}`)
      announced = current.token
    }
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        `Another deploy holds the lock on this PM2 daemon (${file}): ${current ? describeHolder(current) : 'unknown holder'}. ` +
          `Gave up after lock-timeout-seconds (${opts.timeoutSeconds} s). Wait for it to finish or raise lock-timeout-seconds; ` +
          'never delete the lock while that deploy runs.'
      )
    }
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

function takeOverStale(file: string, stale: LockHolder, log: LockLog): void {
  const guard = `${file}.takeover`
  try {
    const fd = fs.openSync(guard, 'wx')
    fs.closeSync(fd)
  } catch {
    // Someone else is taking over; a guard left by a killed taker expires after 10 s.
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > 10_000) fs.unlinkSync(guard)
    } catch {
      // gone already
    }
    return
  }
  try {
    const again = readLockHolder(file)
    if (again && again.token === stale.token) {
      fs.unlinkSync(file)
      log.warning(`Took over a stale deploy lock: its holder is gone. ${describeHolder(stale)}`)
    }
  } finally {
    fs.rmSync(guard, { force: true })
  }
}

// Snapshot files: the fixed fields of every process (never env), written before any change.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { ProcessRecord } from './pm2/process-list.js'

export interface Snapshot {
  schemaVersion: 1
  label: 'before' | 'after'
  takenAt: string
  pm2Home: string
  ownNames: string[]
  processes: ProcessRecord[]
}

export function snapshotFileName(label: 'before' | 'after', runTag: string): string {
  return `pm2-safe-deploy-${runTag}-${label}.json`
}

export function writeSnapshot(dir: string, runTag: string, snapshot: Snapshot): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = path.join(dir, snapshotFileName(snapshot.label, runTag))
  writePrivateFile(file, JSON.stringify(snapshot, null, 2) + '\n')
  return file
}

/**
 * A record only its owner reads (SECURITY.md): written to a new 0600 file (O_EXCL: never through a
 * symlink planted at the name, never keeping an old file's mode) and renamed over the name.
 */
export function writePrivateFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600)
  try {
    fs.fchmodSync(fd, 0o600)
    fs.writeSync(fd, text)
  } finally {
    fs.closeSync(fd)
  }
  try {
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
}

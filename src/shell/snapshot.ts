// Snapshot files: the fixed fields of every process (never env), written before any change.
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
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, snapshotFileName(snapshot.label, runTag))
  fs.writeFileSync(file, JSON.stringify(snapshot, null, 2) + '\n', { mode: 0o600 })
  return file
}

// PM2's saved process list (`<pm2-home>/dump.pm2`, written by `pm2 save`): the restore
// hint prefers `pm2 resurrect` when it holds the names a deploy lost. The dump carries
// every app's full environment; only the names (and the file's save time) are kept:
// the schema picks `name` and zod drops every other key.
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import type { DumpSummary } from '../core/report.js'

const DumpSchema = z.array(z.object({ name: z.string() }))

/** The names in PM2's dump and when it was saved; null when there is none or it does not parse. */
export function readDumpSummary(pm2Home: string): DumpSummary | null {
  const file = path.join(pm2Home, 'dump.pm2')
  try {
    const savedAt = fs.statSync(file).mtime.toISOString()
    const parsed = DumpSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')))
    if (!parsed.success) return null
    return { file, savedAt, names: [...new Set(parsed.data.map((a) => a.name))] }
  } catch {
    return null
  }
}

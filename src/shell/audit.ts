// The audit log: one JSON line per deploy attempt (deployed, failed, aborted, dry run,
// interrupted), appended. Each record is written with a single write(2) on an
// O_APPEND descriptor, which a local file system keeps whole against other appenders:
// lines from concurrent deploys never interleave. A record holds a fixed set of
// fields, never an environment value.
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { DEFAULT_AUDIT_FILE_NAME, envInputs, resolveAuditLog, resolvePm2Home, type InputReader } from './inputs.js'
import type { RecordedDirectories } from '../core/identity.js'
import type { WorkflowMetadata } from './metadata.js'
import type { ReleaseEvent } from '../core/release-history.js'

export const AUDIT_SCHEMA_VERSION = 1
export { DEFAULT_AUDIT_FILE_NAME }
/** Messages are cut to this length: a record stays one short line. */
const MAX_MESSAGE = 2000

const nstr = z.string().nullable()

/** A run's release as its audit line keeps it (the written schema and the read-back share these). */
const RELEASE_FIELDS = {
  link: z.string(),
  target: z.string(),
  previous: nstr,
  live: nstr,
  switched: z.boolean(),
  rolledBack: z.boolean()
}

/** The workflow metadata an audit record keeps: who, what, from where. */
export const AuditMetadataSchema = z.strictObject({
  platform: z.enum(['gitea', 'github', 'local']),
  repository: nstr,
  workflow: nstr,
  workflowRef: nstr,
  workflowSha: nstr,
  workflowFileSha256: nstr,
  runId: nstr,
  runNumber: nstr,
  runAttempt: nstr,
  runUrl: nstr,
  job: nstr,
  event: nstr,
  ref: nstr,
  sha: nstr,
  actor: nstr,
  runner: nstr,
  host: z.string(),
  user: z.string(),
  actionVersion: z.string(),
  pm2CliVersion: nstr,
  pm2DaemonVersion: nstr,
  pm2Home: z.string()
})
export type AuditMetadata = z.infer<typeof AuditMetadataSchema>

/** One line of the audit log. Readers: check `schemaVersion`; fields are only ever added. */
export const AuditRecordSchema = z.strictObject({
  schemaVersion: z.literal(AUDIT_SCHEMA_VERSION),
  time: z.iso.datetime(),
  result: z.enum(['deployed', 'dry-run', 'aborted', 'failed', 'rolled-back']),
  message: z.string(),
  app: z.string(),
  environmentSuffix: z.string(),
  strategy: z.string(),
  dryRun: z.boolean(),
  ownNames: z.array(z.string()),
  commands: z.array(z.strictObject({ command: z.string(), exitCode: z.number() })),
  violations: z.array(z.strictObject({ kind: z.string(), name: z.string(), detail: z.string() })),
  metadata: AuditMetadataSchema.nullable(),
  report: nstr,
  /** The before/after snapshot files of this run (added later: absent from older lines). */
  snapshots: z.strictObject({ before: nstr, after: nstr }).optional(),
  /** Each own name → the real directories its processes ran from at the end (added later: absent from older lines). */
  ownDirectories: z.record(z.string(), z.array(z.string())).optional(),
  /**
   * With `current-link` (added later: absent from older lines): the release this run tried to make
   * live, what was live before and at the end, and why it ran. keep-releases (promise 15) and
   * `rollback-to: previous` (promise 16) read the releases of an app from these.
   */
  release: z.strictObject({ ...RELEASE_FIELDS, kind: z.enum(['deploy', 'rollback-to', 'fleet-rollback']) }).optional()
})
export type AuditRecord = z.infer<typeof AuditRecordSchema>

export interface AuditInput {
  time: string
  result: AuditRecord['result']
  message: string
  app: string
  environmentSuffix: string
  strategy: string
  dryRun: boolean
  ownNames: readonly string[]
  commands: readonly { command: string; exitCode: number }[]
  violations: readonly { kind: string; name: string; detail: string }[]
  metadata: WorkflowMetadata | null
  report: string | null
  snapshots?: { before: string | null; after: string | null }
  ownDirectories?: Readonly<Record<string, readonly string[]>> | null
  release?: AuditRelease | null
}

export type AuditRelease = NonNullable<AuditRecord['release']>

/** Picks the fixed fields: whatever else a caller's objects carry never reaches the log. */
export function buildAuditRecord(r: AuditInput): AuditRecord {
  const m = r.metadata
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    time: r.time,
    result: r.result,
    message: r.message.length > MAX_MESSAGE ? `${r.message.slice(0, MAX_MESSAGE)}…` : r.message,
    app: r.app,
    environmentSuffix: r.environmentSuffix,
    strategy: r.strategy,
    dryRun: r.dryRun,
    ownNames: [...r.ownNames],
    commands: r.commands.map((c) => ({ command: c.command, exitCode: c.exitCode })),
    violations: r.violations.map((v) => ({ kind: v.kind, name: v.name, detail: v.detail })),
    metadata: m
      ? {
          platform: m.platform,
          repository: m.repository,
          workflow: m.workflow,
          workflowRef: m.workflowRef,
          workflowSha: m.workflowSha,
          workflowFileSha256: m.workflowFileSha256,
          runId: m.runId,
          runNumber: m.runNumber,
          runAttempt: m.runAttempt,
          runUrl: m.runUrl,
          job: m.job,
          event: m.event,
          ref: m.ref,
          sha: m.sha,
          actor: m.actor,
          runner: m.runner,
          host: m.host,
          user: m.user,
          actionVersion: m.actionVersion,
          pm2CliVersion: m.pm2CliVersion,
          pm2DaemonVersion: m.pm2DaemonVersion,
          pm2Home: m.pm2Home
        }
      : null,
    report: r.report,
    snapshots: { before: r.snapshots?.before ?? null, after: r.snapshots?.after ?? null },
    ...(r.ownDirectories ? { ownDirectories: Object.fromEntries(Object.entries(r.ownDirectories).map(([name, dirs]) => [name, [...dirs]])) } : {}),
    ...(r.release
      ? {
          release: {
            link: r.release.link,
            target: r.release.target,
            previous: r.release.previous,
            live: r.release.live,
            switched: r.release.switched,
            rolledBack: r.release.rolledBack,
            kind: r.release.kind
          }
        }
      : {})
  }
}

export interface AuditTarget {
  file: string
  /** Set by the user: its directory is created if missing. The default lives in PM2_HOME, which is never created. */
  explicit: boolean
  /** The PM2_HOME the inputs name. */
  pm2Home: string
}

/**
 * Where the audit log goes, from the raw inputs alone, so that an attempt refused for
 * other invalid inputs is still recorded. null: `audit-log: off`. The same resolution
 * as parseInputs: both call resolvePm2Home and resolveAuditLog.
 */
export function resolveAuditTarget(env: NodeJS.ProcessEnv, read: InputReader = envInputs(env)): AuditTarget | null {
  const raw = read('audit-log') ?? ''
  const pm2Home = resolvePm2Home(read('pm2-home') ?? '', env)
  const file = resolveAuditLog(raw, pm2Home, env)
  return file ? { file, explicit: raw.trim() !== '', pm2Home } : null
}

/** Appends one record as one line with one write. */
export function appendAudit(target: Pick<AuditTarget, 'file' | 'explicit'> | string, record: AuditRecord): void {
  const { file, explicit } = typeof target === 'string' ? { file: target, explicit: true } : target
  if (explicit) fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const line = Buffer.from(JSON.stringify(AuditRecordSchema.parse(record)) + '\n', 'utf8')
  // Only the daemon's owner reads the record (SECURITY.md); a symlink planted at the name is not followed.
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600)
  try {
    // A log an older version made 0640 becomes the owner's alone.
    if ((fs.fstatSync(fd).mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600)
    let written = fs.writeSync(fd, line, 0, line.length)
    // A short write (disk full, signal) is finished rather than left as half a line.
    while (written < line.length) written += fs.writeSync(fd, line, written, line.length - written)
  } finally {
    fs.closeSync(fd)
  }
}

/** Appends, turning any failure into a message for a warning; null on success. */
export function tryAppendAudit(target: AuditTarget | null, record: AuditRecord): string | null {
  if (!target) return null
  try {
    appendAudit(target, record)
    return null
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT' && !target.explicit) {
      return `could not append to the audit log ${target.file}: ${path.dirname(target.file)} does not exist (is PM2_HOME right?)`
    }
    return `could not append to the audit log ${target.file}: ${e.message}`
  }
}

/** The fields a later deploy reads back; loose, so lines of newer versions with more fields still count. */
const PreviousRecordSchema = z.object({
  time: z.string(),
  app: z.string(),
  environmentSuffix: z.string(),
  ownDirectories: z.record(z.string(), z.array(z.string())).optional(),
  metadata: z.object({ runUrl: nstr.optional() }).nullable().optional()
})

/** How far back a deploy looks for the previous record of its app: the log is append-only and may be large. */
const TAIL_BYTES = 4 * 1024 * 1024

/** The last few MB of the audit log as whole lines, oldest first; empty when off, missing or unreadable. */
export function readAuditTail(file: string | null): string[] {
  if (!file) return []
  let text: string
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const size = fs.fstatSync(fd).size
      const start = Math.max(0, size - TAIL_BYTES)
      const buf = Buffer.alloc(size - start)
      fs.readSync(fd, buf, 0, buf.length, start)
      text = buf.toString('utf8')
      // The first line of a cut tail is partial.
      if (start > 0) text = text.slice(text.indexOf('\n') + 1)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return []
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
}

function parseLine<T>(line: string, schema: z.ZodType<T>): T | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return null
  }
  const r = schema.safeParse(parsed)
  return r.success ? r.data : null
}

/**
 * For each own name, where it ran at the newest record of `app` + `suffix` that kept it,
 * from the last few MB of the log; empty when there is none (or the log is off, missing or unreadable).
 */
export function previousOwnDirectories(file: string | null, app: string, suffix: string): Record<string, RecordedDirectories> {
  const out: Record<string, RecordedDirectories> = {}
  const lines = readAuditTail(file)
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!
    // Most lines are other apps' or keep no directories: skipped before parsing.
    if (!line.includes('"ownDirectories"')) continue
    const r = parseLine(line, PreviousRecordSchema)
    if (!r || r.app !== app || r.environmentSuffix !== suffix) continue
    for (const [name, directories] of Object.entries(r.ownDirectories ?? {})) {
      out[name] ??= { directories, time: r.time, runUrl: r.metadata?.runUrl ?? null }
    }
  }
  return out
}

/** The fields of a release event a later deploy reads back; loose, as PreviousRecordSchema. */
const ReleaseEventSchema = z.object({
  time: z.string(),
  result: z.string(),
  dryRun: z.boolean().optional(),
  app: z.string(),
  environmentSuffix: z.string(),
  // Loose: a kind a newer version adds is still a release event.
  release: z.object({ ...RELEASE_FIELDS, kind: z.string() }),
  metadata: z
    .object({ sha: nstr.optional(), runId: nstr.optional(), runNumber: nstr.optional(), runUrl: nstr.optional(), repository: nstr.optional() })
    .nullable()
    .optional()
})

/**
 * Every audit line of `app` + `suffix` that recorded a release (with `current-link`), oldest
 * first, from the last few MB of the log: what core/release-history.ts reads the releases from.
 */
export function releaseEvents(file: string | null, app: string, suffix: string): ReleaseEvent[] {
  const out: ReleaseEvent[] = []
  for (const line of readAuditTail(file)) {
    if (!line.includes('"release"')) continue
    const r = parseLine(line, ReleaseEventSchema)
    if (!r || r.app !== app || r.environmentSuffix !== suffix || r.dryRun) continue
    const m = r.metadata ?? null
    out.push({
      time: r.time,
      result: r.result,
      // zod's object() keeps only the fields it names: nothing else of the line gets in.
      ...r.release,
      sha: m?.sha ?? null,
      runId: m?.runId ?? null,
      runUrl: m?.runUrl ?? null
    })
  }
  return out
}

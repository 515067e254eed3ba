// PM2's process list, validated with zod and reduced to a fixed set of fields.
// pm2_env carries every app's whole environment (secrets included) twice; nothing
// outside this module ever sees it, and nothing here copies it.
import { UserError } from '../../core/errors.js'
import { z } from 'zod'

import type { ProcessRecord } from '../../core/process-record.js'
export type { ProcessRecord }

const optionalString = z.string().nullish().catch(null)
const optionalNumber = z.coerce.number().nullish().catch(null)

// Plain (stripping) objects: only the listed keys are read and kept, so parsing costs the
// same whatever an app's environment holds, and the environment never leaves this module.
const Pm2EnvSchema = z.object({
  name: z.coerce.string().optional(),
  namespace: z.coerce.string().optional().catch(undefined),
  status: z.string().catch('unknown'),
  restart_time: z.coerce.number().catch(0),
  unstable_restarts: z.coerce.number().catch(0),
  pm_uptime: optionalNumber,
  exec_mode: z.string().catch('fork_mode'),
  instances: z.union([z.number(), z.string()]).nullish().catch(null),
  exec_interpreter: optionalString,
  pm_exec_path: optionalString,
  pm_cwd: optionalString,
  pm_out_log_path: optionalString,
  pm_err_log_path: optionalString,
  pm_id: z.number().optional()
})

const ProcessSchema = z.object({
  name: z.coerce.string().optional(),
  pm_id: z.number().int().nonnegative(),
  pid: z.coerce.number().catch(0),
  monit: z.object({ memory: optionalNumber, cpu: optionalNumber }).nullish().catch(null),
  pm2_env: Pm2EnvSchema
})

export const ProcessListSchema = z.array(ProcessSchema)

function toRecord(p: z.infer<typeof ProcessSchema>): ProcessRecord {
  const env = p.pm2_env
  const instances = env.instances == null ? null : Number(env.instances)
  return {
    pmId: p.pm_id,
    name: String(p.name ?? env.name ?? ''),
    namespace: env.namespace ?? 'default',
    pid: Number.isFinite(p.pid) ? p.pid : 0,
    status: env.status,
    restarts: env.restart_time,
    unstableRestarts: env.unstable_restarts,
    startedAt: env.pm_uptime ?? null,
    execMode: env.exec_mode.replace(/_mode$/, ''),
    instances: Number.isFinite(instances) ? instances : null,
    interpreter: env.exec_interpreter ?? null,
    script: env.pm_exec_path ?? null,
    cwd: env.pm_cwd ?? null,
    outLog: env.pm_out_log_path ?? null,
    errLog: env.pm_err_log_path ?? null,
    memory: p.monit?.memory ?? null,
    cpu: p.monit?.cpu ?? null
  }
}

export class ProcessListError extends UserError {}

/** Validates a parsed process list (from the RPC socket or `pm2 jlist`) and reduces it. */
export function toProcessRecords(raw: unknown): ProcessRecord[] {
  const parsed = ProcessListSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ProcessListError(
      `PM2's process list has an unexpected shape (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}). ` +
        'Is pm2-path a real pm2 and the daemon a PM2 daemon?'
    )
  }
  return parsed.data.map(toRecord).sort((a, b) => a.pmId - b.pmId)
}

/** The index of the bracket that closes the one at `open`, skipping JSON strings; -1 if none. */
function matchingBracket(text: string, open: number): number {
  let depth = 0
  let inString = false
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '[' || c === '{') depth++
    else if (c === ']' || c === '}') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/**
 * `pm2 jlist` prints banners, daemon spawn lines or update notices around its JSON
 * on some hosts. Take the first JSON array of objects out of the noise. Errors never
 * quote the output: it holds every app's environment.
 */
export function extractJsonArray(stdout: string): unknown {
  for (let i = stdout.indexOf('['); i !== -1; i = stdout.indexOf('[', i + 1)) {
    const end = matchingBracket(stdout, i)
    if (end === -1) continue
    try {
      const value: unknown = JSON.parse(stdout.slice(i, end + 1))
      if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) return value
    } catch {
      // not this one
    }
  }
  throw new ProcessListError(
    `pm2 jlist printed no JSON process list (${stdout.length} bytes of other output). Check that pm2-path is a real pm2.`
  )
}

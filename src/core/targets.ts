// How PM2 resolves the target argument of delete/restart/reload/stop, mirrored from
// pm2's API._operate and Client.getProcessIdByName (pm2 5.4 – 7.0), and the gate
// that every mutating command passes before it is sent.
import { UserError } from './errors.js'
import type { PlannedCommand } from './plan.js'
import path from 'node:path'
import type { ProcessRecord } from './process-record.js'

/** Substrings that make PM2 read an argument as a config file (Common.isConfigFile). */
export const CONFIG_FILE_MARKERS = ['.json', '.yml', '.yaml', '.config.js', '.config.cjs', '.config.mjs'] as const

export type TargetKind = 'all' | 'stdin' | 'config-file' | 'regex' | 'name-or-script' | 'namespace' | 'pm-id' | 'none'

export interface TargetResolution {
  kind: TargetKind
  /** pm_ids PM2 would act on; for `config-file` and `stdin`, unknowable from the list. */
  pmIds: number[]
}

export function looksLikeConfigFile(arg: string): boolean {
  return CONFIG_FILE_MARKERS.some((m) => arg.includes(m))
}

/** JavaScript's isNaN coercion, as PM2 uses it: '', ' 1', '0x1f', '1e3' and 'Infinity' are numbers. */
export function pm2ReadsAsNumber(arg: string): boolean {
  return !Number.isNaN(Number(arg))
}

/**
 * Which processes `pm2 <delete|restart|reload|stop> <arg>` would reach, run from `cliCwd`.
 * Regex targets strip every slash and match unanchored, as PM2 does.
 */
export function resolvePm2Target(arg: string, processes: readonly ProcessRecord[], cliCwd: string): TargetResolution {
  const ids = (pred: (p: ProcessRecord) => boolean) => processes.filter(pred).map((p) => p.pmId)
  if (arg === 'all') return { kind: 'all', pmIds: ids(() => true) }
  if (arg === '-') return { kind: 'stdin', pmIds: [] }
  if (looksLikeConfigFile(arg)) return { kind: 'config-file', pmIds: [] }
  if (!pm2ReadsAsNumber(arg) && arg.startsWith('/') && arg.endsWith('/')) {
    let regex: RegExp
    try {
      regex = new RegExp(arg.replace(/\//g, ''))
    } catch {
      return { kind: 'regex', pmIds: [] }
    }
    return { kind: 'regex', pmIds: ids((p) => regex.test(p.name)) }
  }
  const scriptPath = path.resolve(cliCwd, arg)
  const byName = ids((p) => p.name === arg || p.script === scriptPath)
  if (byName.length > 0) return { kind: 'name-or-script', pmIds: byName }
  const byNamespace = ids((p) => p.namespace === arg)
  if (byNamespace.length > 0) return { kind: 'namespace', pmIds: byNamespace }
  if (pm2ReadsAsNumber(arg)) {
    const byId = ids((p) => p.pmId === Number(arg))
    if (byId.length > 0) return { kind: 'pm-id', pmIds: byId }
  }
  return { kind: 'none', pmIds: [] }
}

export type GateVerdict = { ok: true; pmIds: number[] } | { ok: false; reason: string }

/**
 * The safety gate for a by-name target: allowed only when the argument is an own name
 * and PM2 would resolve it to own processes only, by name. Any other reading (regex,
 * namespace, pm_id, config file, a flag, nothing at all) is refused.
 */
export function gateTarget(
  arg: string,
  processes: readonly ProcessRecord[],
  ownNames: ReadonlySet<string>,
  cliCwd: string
): GateVerdict {
  if (!ownNames.has(arg)) return { ok: false, reason: `"${arg}" is not one of this deploy's own names` }
  if (arg.startsWith('-')) return { ok: false, reason: `"${arg}" would be read by pm2 as an option` }
  if (pm2ReadsAsNumber(arg)) return { ok: false, reason: `"${arg}" could be read by PM2 as a pm_id` }
  const resolution = resolvePm2Target(arg, processes, cliCwd)
  if (resolution.kind !== 'name-or-script') {
    const what =
      resolution.kind === 'none' ? 'no process (PM2 would fail or fall back to a namespace)' : `a ${resolution.kind} target`
    return { ok: false, reason: `PM2 would read "${arg}" as ${what}` }
  }
  const byId = new Map(processes.map((p) => [p.pmId, p]))
  const foreign = resolution.pmIds.map((id) => byId.get(id)).filter((p) => p !== undefined && !ownNames.has(p.name))
  if (foreign.length > 0) {
    const list = foreign.map((p) => `${p!.name} (pm_id ${p!.pmId})`).join(', ')
    return { ok: false, reason: `"${arg}" would also reach ${list}` }
  }
  return { ok: true, pmIds: resolution.pmIds }
}

/** A planned command the gate refused: its message says which target and why. */
export class UnsafeCommandError extends UserError {}

/**
 * Checks a planned command against `processes` (a fresh list) without sending it. By-name
 * targets must resolve to own processes only; ecosystem commands may name own apps only.
 */
export function gateCommand(cmd: PlannedCommand, processes: readonly ProcessRecord[], ownNames: ReadonlySet<string>, cliCwd: string): void {
  if (cmd.verb === 'save') return
  if (cmd.verb === 'delete-ids') {
    const verdict = gatePmIds(cmd.instances, processes, ownNames, cliCwd)
    if (!verdict.ok) throw new UnsafeCommandError(`refused to send pm2 delete ${cmd.instances.map((i) => i.pmId).join(' ')}: ${verdict.reason}`)
    return
  }
  if (cmd.verb === 'start-script') {
    const verdict = gateScriptStart(cmd.name, cmd.script, cmd.namespace, processes, ownNames)
    if (!verdict.ok) throw new UnsafeCommandError(`refused to send pm2 start ${cmd.script} --name ${cmd.name}: ${verdict.reason}`)
    return
  }
  if ('targets' in cmd) {
    for (const target of cmd.targets) {
      const verdict = gateTarget(target, processes, ownNames, cliCwd)
      if (!verdict.ok) throw new UnsafeCommandError(`refused to send pm2 ${cmd.verb} ${target}: ${verdict.reason}`)
    }
    return
  }
  const foreign = cmd.only.filter((n) => !ownNames.has(n) || n.includes(','))
  if (foreign.length > 0 || cmd.only.length === 0) {
    throw new UnsafeCommandError(`refused to send pm2 ${cmd.verb}: --only must list own names only (got ${cmd.only.join(', ')})`)
  }
}

/**
 * The gate for `pm2 delete <pm_id>` (a swap's old instance): PM2 reads a number first
 * as a name, then as a namespace, and only then as a pm_id, so the number is a safe
 * target only while no process has it as name or namespace (nor as a script path from
 * `cliCwd`), and only when the process with that pm_id is own and has `name`.
 */
export function gatePmId(
  pmId: number,
  name: string,
  processes: readonly ProcessRecord[],
  ownNames: ReadonlySet<string>,
  cliCwd: string
): GateVerdict {
  const arg = String(pmId)
  if (!Number.isSafeInteger(pmId) || pmId < 0) return { ok: false, reason: `${arg} is not a pm_id` }
  if (!ownNames.has(name)) return { ok: false, reason: `"${name}" is not one of this deploy's own names` }
  const resolution = resolvePm2Target(arg, processes, cliCwd)
  if (resolution.kind !== 'pm-id') {
    const what = resolution.kind === 'none' ? 'no process (it is gone)' : `a ${resolution.kind} target`
    return { ok: false, reason: `PM2 would read ${arg} as ${what}` }
  }
  const target = processes.find((p) => p.pmId === pmId)
  if (!target || resolution.pmIds.length !== 1 || target.name !== name) {
    return { ok: false, reason: `pm_id ${arg} is ${target ? `"${target.name}"` : 'no process'}, not an instance of ${name}` }
  }
  return { ok: true, pmIds: [pmId] }
}

/**
 * The gate for `pm2 delete <id> <id> …`: PM2 resolves each target in turn, against a
 * list that only loses the processes deleted before it (no name or namespace appears),
 * so the command is safe when each id alone passes gatePmId against the one fresh list.
 * (A process another user names after a later id while the command runs is beyond any
 * gate, as between two calls; the isolation check right after the delete reports it.)
 */
export function gatePmIds(
  instances: readonly { pmId: number; name: string }[],
  processes: readonly ProcessRecord[],
  ownNames: ReadonlySet<string>,
  cliCwd: string
): GateVerdict {
  if (instances.length === 0) return { ok: false, reason: 'no pm_id to delete' }
  const ids = instances.map((i) => i.pmId)
  if (new Set(ids).size !== ids.length) return { ok: false, reason: 'a pm_id is listed twice (PM2 would fail on the second)' }
  for (const { pmId, name } of instances) {
    const verdict = gatePmId(pmId, name, processes, ownNames, cliCwd)
    if (!verdict.ok) return verdict
  }
  return { ok: true, pmIds: ids }
}

/**
 * The gate for `pm2 start <script> --name <name>` (a swap's new set): the name must be
 * own and plain, and the script an absolute path PM2 runs as a file (with a `/`, PM2
 * never reads it as a name, namespace or pm_id; never one it would read as a config).
 * PM2 restarts a stopped or errored process of that name and path instead of starting:
 * that process is own by its name.
 */
export function gateScriptStart(name: string, script: string, namespace: string | null, processes: readonly ProcessRecord[], ownNames: ReadonlySet<string>): GateVerdict {
  if (!ownNames.has(name)) return { ok: false, reason: `"${name}" is not one of this deploy's own names` }
  if (name.startsWith('-') || pm2ReadsAsNumber(name)) return { ok: false, reason: `"${name}" is not a plain name` }
  if (!script.startsWith('/')) return { ok: false, reason: `script ${script} is not an absolute path` }
  if (looksLikeConfigFile(script)) return { ok: false, reason: `PM2 would read ${script} as a config file, which matches apps by name` }
  if (namespace !== null && (namespace.startsWith('-') || namespace === '')) return { ok: false, reason: `namespace "${namespace}" is not plain` }
  return { ok: true, pmIds: processes.filter((p) => p.name === name).map((p) => p.pmId) }
}

// Promise 9 as data: how an own app moves to a new script, cwd or interpreter without
// downtime. PM2's reload/restart keep a process's script and cwd, and a config start
// matches running processes by name, so a cluster app is swapped: `pm2 start <script>
// --name <name> -i N` beside the old instances (a script path can start a second set
// under one name; the daemon is the cluster master, so both sets share the port), then
// the old instances deleted by pm_id in one `pm2 delete <id> <id> …`, every id gated. Pure.
import type { ProcessRecord } from './process-record.js'

/** What the ecosystem file resolves an app to, in the form PM2 records it (pm_exec_path, pm_cwd, exec_interpreter). */
export interface AppTarget {
  name: string
  script: string
  cwd: string
  /** The file's `interpreter`; null when it sets none (PM2 picks one by extension: not compared, not passed). */
  interpreter: string | null
  execMode: 'cluster' | 'fork'
  instances: number
  namespace: string | null
}

export type AppMove =
  /** Nothing PM2 keeps changes (or the path goes through the link, which new workers resolve again): reload/restart in place. */
  | { kind: 'in-place'; name: string }
  /** No process yet: the ecosystem start creates it. */
  | { kind: 'start'; name: string }
  /** Cluster app whose paths change: new instances beside the old, then the old deleted by pm_id. */
  | { kind: 'swap'; name: string; oldPmIds: number[]; changed: string[] }
  /** Fork app whose paths change: delete, then start (the summary says it had downtime). */
  | { kind: 'recreate'; name: string; changed: string[] }

/** PM2 records node as `node`; a path to a node binary is the same choice only by that exact path. */
function sameInterpreter(recorded: string | null, wanted: string | null): boolean {
  return recorded === null || wanted === null || recorded === wanted
}

/** Which of script, cwd, interpreter of `p` a reload or restart would leave as it is, against what the file says. */
export function changedFields(p: ProcessRecord, want: AppTarget): string[] {
  const out: string[] = []
  if (p.script !== null && p.script !== want.script) out.push(`script ${p.script} → ${want.script}`)
  if (p.cwd !== null && p.cwd !== want.cwd) out.push(`cwd ${p.cwd} → ${want.cwd}`)
  if (!sameInterpreter(p.interpreter, want.interpreter)) out.push(`interpreter ${p.interpreter} → ${want.interpreter}`)
  return out
}

/**
 * How each own app moves under `strategy`. `recreate` is always delete-then-start and
 * is planned by plan.ts; this decides for `reload` and `restart`. Processes left
 * stopped or errored are deleted and started fresh by plan.ts as before, so they are
 * not swapped.
 */
export function planMoves(targets: readonly AppTarget[], processes: readonly ProcessRecord[]): AppMove[] {
  return targets.map((want): AppMove => {
    const mine = processes.filter((p) => p.name === want.name && p.status !== 'stopped' && p.status !== 'errored')
    if (mine.length === 0) return { kind: 'start', name: want.name }
    const changed = [...new Set(mine.flatMap((p) => changedFields(p, want)))]
    if (changed.length === 0) return { kind: 'in-place', name: want.name }
    const allCluster = mine.every((p) => p.execMode === 'cluster')
    if (want.execMode === 'cluster' && allCluster) return { kind: 'swap', name: want.name, oldPmIds: mine.map((p) => p.pmId).sort((a, b) => a - b), changed }
    return { kind: 'recreate', name: want.name, changed }
  })
}

/** `pm2 start <script> --name <name> …`: the new set of a swap. Env comes from the pm2 command's own environment. */
export interface ScriptStart {
  verb: 'start-script'
  name: string
  /** Absolute: with a `/` in it PM2 never reads the argument as a name, namespace or pm_id. */
  script: string
  cwd: string
  instances: number
  execMode: 'cluster' | 'fork'
  interpreter: string | null
  namespace: string | null
  /** Further options as PM2 CLI flags (node args, logs, memory limit, …), already validated. */
  flags: string[]
  /** Script arguments, after `--`. */
  args: string[]
  /** `-f`: a process of this name already runs this very script path (only cwd or interpreter change). */
  force: boolean
  /** Run through the ecosystem reader, which gives pm2 the app's env and env_<envName> (swapStartEnv). */
  envFrom: { ecosystem: string; envName: string | null } | null
  why: string
}

/** One instance a swap retires (or undoes), by pm_id. */
export interface OldInstance {
  pmId: number
  /** The own name the process has, checked again by the gate against a fresh list. */
  name: string
}

/** `pm2 delete <id> <id> …`: PM2 deletes each target in turn, in one CLI call; the gate checks every id. */
export interface DeleteByIds {
  verb: 'delete-ids'
  instances: OldInstance[]
  why: string
}

/** The one command that deletes `instances` by pm_id; none when there are none. */
export function deleteByIds(instances: readonly OldInstance[], why: string): DeleteByIds[] {
  return instances.length === 0 ? [] : [{ verb: 'delete-ids', instances: instances.map(({ pmId, name }) => ({ pmId, name })), why }]
}

/** The Swap phase's command: every swapped app's old instances at once, sent only after the new sets are verified. */
export const retireOld = (instances: readonly OldInstance[]): DeleteByIds[] => deleteByIds(instances, 'swap: the old instances, once the new ones serve')

export function scriptStartArgs(cmd: ScriptStart): string[] {
  const args = ['start', cmd.script, '--name', cmd.name, '--cwd', cmd.cwd]
  if (cmd.execMode === 'cluster') args.push('-i', String(cmd.instances))
  if (cmd.interpreter !== null) args.push('--interpreter', cmd.interpreter)
  if (cmd.namespace !== null) args.push('--namespace', cmd.namespace)
  if (cmd.force) args.push('-f')
  args.push(...cmd.flags)
  if (cmd.args.length > 0) args.push('--', ...cmd.args)
  return args
}

/** One swap: the command of the new set, and the old instances (deleted by retireOld once the new set is verified). */
export function planSwap(
  move: Extract<AppMove, { kind: 'swap' }>,
  want: AppTarget,
  processes: readonly ProcessRecord[],
  extra: { flags?: string[]; args?: string[]; envFrom?: ScriptStart['envFrom'] } = {}
): { start: ScriptStart; old: OldInstance[] } {
  const force = processes.some((p) => p.name === want.name && p.script === want.script)
  return {
    start: {
      verb: 'start-script',
      name: want.name,
      script: want.script,
      cwd: want.cwd,
      instances: want.instances,
      execMode: want.execMode,
      interpreter: want.interpreter,
      namespace: want.namespace,
      flags: extra.flags ?? [],
      args: extra.args ?? [],
      force,
      envFrom: extra.envFrom ?? null,
      why: `swap: ${move.changed.join(', ')}; new instances beside the old`
    },
    old: move.oldPmIds.map((pmId) => ({ pmId, name: want.name }))
  }
}

/** Ecosystem options PM2's CLI can take for a script start, as `--flag=value` (a value may start with `-`). */
const VALUE_FLAGS: Record<string, string> = {
  max_memory_restart: '--max-memory-restart',
  out_file: '--output',
  error_file: '--error',
  log_file: '--log',
  kill_timeout: '--kill-timeout',
  listen_timeout: '--listen-timeout',
  max_restarts: '--max-restarts',
  restart_delay: '--restart-delay',
  exp_backoff_restart_delay: '--exp-backoff-restart-delay',
  log_date_format: '--log-date-format',
  log_type: '--log-type',
  cron_restart: '--cron-restart',
  uid: '--uid',
  gid: '--gid'
}
const TRUE_FLAGS: Record<string, string> = {
  merge_logs: '--merge-logs',
  combine_logs: '--merge-logs',
  wait_ready: '--wait-ready',
  time: '--time',
  shutdown_with_message: '--shutdown-with-message',
  source_map_support: '--source-map-support',
  disable_logs: '--disable-logs'
}
const FALSE_FLAGS: Record<string, string> = {
  autorestart: '--no-autorestart',
  treekill: '--no-treekill',
  vizion: '--no-vizion',
  pmx: '--no-pmx'
}
/** Read elsewhere: identity and paths (AppTarget), env (the pm2 command's environment), args (after `--`). */
const HANDLED = new Set(['name', 'script', 'cwd', 'interpreter', 'exec_interpreter', 'exec_mode', 'instances', 'namespace', 'env', 'args'])

/**
 * The CLI flags that carry an app's ecosystem options into a script start, and the
 * options no flag can carry (the swap would drop them: the caller decides, e.g. recreate).
 */
export function ecosystemOptionFlags(options: Readonly<Record<string, unknown>>): { flags: string[]; unsupported: string[] } {
  const flags: string[] = []
  const unsupported: string[] = []
  for (const [key, value] of Object.entries(options)) {
    if (HANDLED.has(key) || key.startsWith('env_') || value === undefined || value === null) continue
    if (key === 'node_args' || key === 'interpreter_args') {
      const v = Array.isArray(value) ? value.map(String).join(' ') : String(value)
      if (v.trim() !== '') flags.push(`--node-args=${v}`)
    } else if (key in VALUE_FLAGS && (typeof value === 'string' || typeof value === 'number')) flags.push(`${VALUE_FLAGS[key]}=${value}`)
    else if (key in TRUE_FLAGS && typeof value === 'boolean') {
      if (value) flags.push(TRUE_FLAGS[key]!)
    } else if (key in FALSE_FLAGS && typeof value === 'boolean') {
      if (!value) flags.push(FALSE_FLAGS[key]!)
    } else unsupported.push(key)
  }
  return { flags: [...new Set(flags)], unsupported }
}

/**
 * The environment of the one pm2 command that starts a swap's new set: PM2 gives a
 * script start the caller's environment, so the file's `env` and `env_<name>` are
 * merged over the clean environment as PM2 merges them for a config start. Minus
 * `name`, `namespace` and `pm_id`, which PM2 would read over `--name` and `--namespace`.
 */
export function swapStartEnv(
  cleanEnv: Readonly<Record<string, string>>,
  appEnv: Readonly<Record<string, unknown>> | undefined,
  envByName: Readonly<Record<string, unknown>> | undefined
): Record<string, string> {
  const out: Record<string, string> = { ...cleanEnv }
  for (const layer of [appEnv, envByName]) {
    for (const [k, v] of Object.entries(layer ?? {})) {
      if (v === undefined || v === null) continue
      out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v)
    }
  }
  delete out.name
  delete out.namespace
  delete out.pm_id
  return out
}

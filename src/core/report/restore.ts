// Restore hints: for a failed or aborted deploy, how to bring back every other
// app that is missing or no longer online, from the before-snapshot or PM2's saved list.
import type { ProcessRecord } from '../process-record.js'
import type { DeployResult, RestoreHint } from '../report-schema.js'
import { looksLikeConfigFile, resolvePm2Target } from '../targets.js'
import { shellCommand, shellQuote } from './shell-quote.js'

export const ARGS_NOT_RECORDED =
  'Arguments and environment variables are not recorded in snapshots (they may hold secrets): append `-- <args>` ' +
  "and set the app's environment as before, or start it from its own ecosystem file instead: `pm2 start <file> --only <name>`."

/** What PM2's saved process list (`dump.pm2`) holds: names and when it was saved, never env. */
export interface DumpSummary {
  file: string
  savedAt: string
  names: string[]
}

export interface RestoreInput {
  result: DeployResult
  ownNames: readonly string[]
  before: readonly ProcessRecord[]
  after: readonly ProcessRecord[]
  /** False when the process list at the end could not be read (the daemon may be down). */
  afterListed: boolean
  /** PM2_HOME of the daemon, put in front of each command; null to leave it out. */
  pm2Home: string | null
  /** PM2's saved process list, when there is one: `pm2 resurrect` is preferred for names it holds. */
  dump?: DumpSummary | null
  /** The daemon stopped answering during the deploy: only `pm2 resurrect` brings back a whole host. */
  daemonGone?: boolean
}

/**
 * For a failed or aborted deploy: how to bring back every other app that is missing
 * or no longer online, from the before-snapshot. A name that is gone entirely gets a
 * `pm2 start` with its recorded script, name, namespace, cwd, interpreter, exec mode
 * and instances; a name with some processes gone gets `pm2 scale`; a process still
 * listed but no longer online gets `pm2 restart <name>` when PM2 would read that name
 * as that app only. Empty for `deployed` and `dry-run`.
 */
export function restoreHints(input: RestoreInput): RestoreHint[] {
  if (input.result !== 'failed' && input.result !== 'aborted' && input.result !== 'rolled-back') return []
  const prefix = input.pm2Home ? [`PM2_HOME=${shellQuote(input.pm2Home)}`] : []
  const render = (argv: string[]) => [...prefix, shellCommand(argv)].join(' ')
  if (input.daemonGone) return [daemonGoneHint(input, render)]
  const hints = snapshotHints(input, render)
  return input.dump ? preferResurrect(hints, input, input.dump, render) : hints
}

const dumpCaveat = (dump: DumpSummary, wouldStart: readonly string[]) =>
  `\`pm2 resurrect\` starts every name in ${dump.file} (saved ${dump.savedAt}) that is not running, with its saved script, args and env: ` +
  `here ${wouldStart.join(', ')}.`

/** A resurrect hint stands for several apps: no single script, cwd or mode. */
const NO_SINGLE_APP = { script: null, cwd: null, interpreter: null, execMode: '', instances: null }

/** The daemon is gone: a `pm2 start` would spawn a daemon with that one app; resurrect brings back the saved host. */
function daemonGoneHint(input: RestoreInput, render: (argv: string[]) => string): RestoreHint {
  const names = [...new Set(input.before.map((p) => p.name))].sort()
  const argv = input.dump && input.dump.names.length > 0 ? ['pm2', 'resurrect'] : null
  const orphans =
    'If the daemon was killed outright (SIGKILL, OOM), its apps may still run as orphans holding their ports: check `ps` for them before starting anything.'
  return {
    kind: 'resurrect',
    name: names.join(', ') || '(all)',
    namespace: 'default',
    missing: input.before.length,
    before: input.before.length,
    ...NO_SINGLE_APP,
    argv,
    command: argv ? render(argv) : null,
    caveats: argv
      ? [`The PM2 daemon is gone: run this as the user who owns it. ${dumpCaveat(input.dump!, input.dump!.names)}`, orphans]
      : [
          `The PM2 daemon is gone and there is no saved process list (${input.pm2Home ?? 'PM2_HOME'}/dump.pm2) to bring it back from: ` +
            'as the user who owns it, start the apps again from their ecosystem files (the before-snapshot lists them), then `pm2 save`.',
          orphans
        ],
    wouldStart: argv ? [...input.dump!.names] : [],
    dumpSavedAt: input.dump?.savedAt ?? null
  }
}

/** Names gone entirely that the dump holds are brought back by one `pm2 resurrect`, with their args and env. */
function preferResurrect(hints: RestoreHint[], input: RestoreInput, dump: DumpSummary, render: (argv: string[]) => string): RestoreHint[] {
  const inDump = new Set(dump.names)
  const covered = hints.filter((h) => h.kind === 'start' && inDump.has(h.name))
  if (covered.length === 0) return hints
  const running = new Set(input.after.map((p) => p.name))
  const wouldStart = dump.names.filter((n) => !running.has(n))
  const lost = new Set(covered.map((h) => h.name))
  const extra = wouldStart.filter((n) => !lost.has(n))
  const argv = ['pm2', 'resurrect']
  const resurrect: RestoreHint = {
    kind: 'resurrect',
    name: [...lost].join(', '),
    namespace: covered[0]!.namespace,
    missing: covered.reduce((n, h) => n + h.missing, 0),
    before: covered.reduce((n, h) => n + h.before, 0),
    ...NO_SINGLE_APP,
    argv,
    command: render(argv),
    caveats: [
      dumpCaveat(dump, wouldStart),
      ...(extra.length > 0
        ? [`That includes ${extra.join(', ')}, which this deploy did not lose (own processes, or apps deleted since the save): delete them again afterwards if they should not run.`]
        : []),
      ...(input.afterListed ? [] : ['The process list at the end could not be read: check `pm2 ls` first.'])
    ],
    wouldStart,
    dumpSavedAt: dump.savedAt
  }
  return [resurrect, ...hints.filter((h) => !covered.includes(h))]
}

/** Hints rebuilt from the before-snapshot: `pm2 start`, `pm2 scale` or `pm2 restart`, per name. */
function snapshotHints(input: RestoreInput, render: (argv: string[]) => string): RestoreHint[] {
  const own = new Set(input.ownNames)
  const listCaveat = input.afterListed
    ? []
    : ['The process list at the end could not be read (is the daemon up? `pm2 ping`): this assumes every process in the before-snapshot is gone. Check `pm2 ls` first.']
  const names = [...new Set(input.before.filter((p) => !own.has(p.name)).map((p) => p.name))].sort()
  return names.flatMap((name) => {
    const was = input.before.filter((p) => p.name === name)
    const now = input.after.filter((p) => p.name === name)
    if (now.length === 0) return startHints(name, was, listCaveat, render)
    if (now.length < was.length) return [scaleHint(name, was, now, listCaveat, render)]
    return restartHints(name, was, now, input.after, render)
  })
}

/** The fields every hint for `name` carries, from its first recorded process. */
function hintFields(name: string, was: readonly ProcessRecord[]) {
  const first = was[0]!
  return { name, namespace: first.namespace, before: was.length, script: first.script, cwd: first.cwd, interpreter: first.interpreter, execMode: first.execMode, instances: first.instances }
}

/** The name is gone: start it again, one command per distinct recorded config. */
function startHints(name: string, was: readonly ProcessRecord[], listCaveat: string[], render: (argv: string[]) => string): RestoreHint[] {
  const groups = new Map<string, ProcessRecord[]>()
  for (const p of was) {
    const key = JSON.stringify([p.namespace, p.script, p.cwd, p.interpreter, p.execMode])
    groups.set(key, [...(groups.get(key) ?? []), p])
  }
  return [...groups.values()].map((procs): RestoreHint => {
    const p = procs[0]!
    const caveats = [ARGS_NOT_RECORDED, ...listCaveat]
    let argv: string[] | null = null
    if (!p.script) {
      caveats.unshift('The snapshot has no script path for it: start it from its ecosystem file.')
    } else {
      argv = ['pm2', 'start', p.script, '--name', name]
      if (p.namespace && p.namespace !== 'default') argv.push('--namespace', p.namespace)
      if (p.cwd) argv.push('--cwd', p.cwd)
      if (p.interpreter) argv.push('--interpreter', p.interpreter)
      if (p.execMode === 'cluster') argv.push('-i', String(procs.length))
      else if (procs.length > 1) argv.push('-x', '-i', String(procs.length))
      if (looksLikeConfigFile(p.script)) {
        caveats.unshift('PM2 reads a script path containing .json, .yml, .yaml or .config.js as a config file: start it from its ecosystem file instead.')
      }
    }
    return {
      kind: 'start',
      ...hintFields(name, was),
      namespace: p.namespace,
      script: p.script,
      cwd: p.cwd,
      interpreter: p.interpreter,
      execMode: p.execMode,
      instances: p.instances,
      missing: procs.length,
      argv,
      command: argv ? render(argv) : null,
      caveats
    }
  })
}

/** Some of its processes are gone: `pm2 scale` copies the recorded config of those still listed. */
function scaleHint(name: string, was: readonly ProcessRecord[], now: readonly ProcessRecord[], listCaveat: string[], render: (argv: string[]) => string): RestoreHint {
  const argv = ['pm2', 'scale', name, String(was.length)]
  return {
    kind: 'scale',
    ...hintFields(name, was),
    missing: was.length - now.length,
    argv,
    command: render(argv),
    caveats: [`${now.length} of its ${was.length} processes are still listed; \`pm2 scale\` copies their recorded config (args and env included).`, ...listCaveat]
  }
}

/** All still listed, some no longer online: `pm2 restart` by name, when PM2 would read the name as this app alone. */
function restartHints(name: string, was: readonly ProcessRecord[], now: readonly ProcessRecord[], after: readonly ProcessRecord[], render: (argv: string[]) => string): RestoreHint[] {
  const nowIds = new Set(now.map((p) => p.pmId))
  const offline = was.filter((p) => p.status === 'online' && nowIds.has(p.pmId) && now.find((q) => q.pmId === p.pmId)!.status !== 'online')
  if (offline.length === 0) return []
  const target = resolvePm2Target(name, after, '/')
  const byIdAfter = new Map(after.map((p) => [p.pmId, p]))
  const safe = target.kind === 'name-or-script' && target.pmIds.every((id) => byIdAfter.get(id)?.name === name)
  const argv = safe ? ['pm2', 'restart', name] : null
  return [
    {
      kind: 'restart',
      ...hintFields(name, was),
      missing: offline.length,
      argv,
      command: argv ? render(argv) : null,
      caveats: safe
        ? ['`pm2 restart` starts it with the config PM2 recorded (args and env included).']
        : [`PM2 would not read "${name}" as this app alone (${target.kind} target): restart it by hand from \`pm2 ls\` or from its ecosystem file.`]
    }
  ]
}


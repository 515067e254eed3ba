// The deploy report (the `report` output), and what a person reads of it: the job
// summary, the same verdict and tables in the log (Gitea before 1.27 shows no summary),
// the annotation, and the restore hint. Pure: data in, text out. No environment values:
// only the report's fixed fields are rendered.
import type { ProcessRecord } from './process-record.js'
import { type DeployReport, type DeployResult, type RestoreHint } from './report-schema.js'
import { looksLikeConfigFile, resolvePm2Target } from './targets.js'

export {
  REPORT_SCHEMA_VERSION,
  DeployReportSchema,
  type CheckRecord,
  type CommandRecord,
  type DeployReport,
  type DeployResult,
  type RestoreHint
} from './report-schema.js'

// ---------------------------------------------------------------------------------
// Shell quoting and the restore hint
// ---------------------------------------------------------------------------------

/**
 * Quotes one word for a POSIX shell (bash, zsh, dash): bare when it holds only safe
 * characters, else in single quotes. Control characters (a newline in a path, an
 * escape sequence) would be pasted invisibly, so such words use bash/zsh `$'…'`
 * quoting with every such byte escaped.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(word)) {
    let out = ''
    for (const ch of word) {
      const c = ch.codePointAt(0)!
      if (ch === '\\' || ch === "'") out += '\\' + ch
      else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0')
      else if ((c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0')
      else out += ch
    }
    return `$'${out}'`
  }
  return `'${word.replace(/'/g, `'\\''`)}'`
}

export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ')
}

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

/** The title of a deploy during which the PM2 daemon went away. */
export const DAEMON_GONE_TITLE = 'PM2 daemon gone'

/** The message of a deploy during which the PM2 daemon went away: no own process is to blame. */
export function daemonGoneMessage(pm2Home: string, commandsSent: number): string {
  return (
    `The PM2 daemon at ${pm2Home} is gone: it stopped answering during the deploy` +
    `${commandsSent > 0 ? ` (after ${commandsSent} pm2 command(s) were sent)` : ''}, and every process it ran, own or not, went with it. ` +
    'This is not a fault of the own processes. Start it again as the user who owns it: `pm2 resurrect` (it starts the daemon and the ' +
    'apps of the last `pm2 save`); then re-run this deploy.'
  )
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

// ---------------------------------------------------------------------------------
// Verdict and next steps
// ---------------------------------------------------------------------------------

export function isSafetyAbort(report: Pick<DeployReport, 'message' | 'violations'> & { title?: string }): boolean {
  // Other apps that went down with a vanished daemon were not changed by anyone's deploy.
  if (report.title === DAEMON_GONE_TITLE) return false
  return report.message.startsWith('SAFETY ABORT') || report.violations.length > 0
}

/** The one-line verdict: what happened. */
export function verdictHeadline(report: DeployReport): { icon: string; text: string } {
  const target = `${report.app}${report.environmentSuffix}`
  switch (report.result) {
    case 'deployed':
      return { icon: '✅', text: `Deployed ${target}` }
    case 'dry-run':
      return { icon: '🔍', text: `Dry run for ${target}: nothing changed` }
    case 'aborted':
      return { icon: '⛔', text: `Aborted, nothing changed: ${report.title || 'deploy refused'} (${target})` }
    case 'failed':
      if (isSafetyAbort(report)) return { icon: '🛑', text: `SAFETY ABORT: other apps changed during the deploy of ${target}` }
      return { icon: '❌', text: `Failed: ${report.title || 'deploy failed'} (${target})` }
    case 'rolled-back':
      return { icon: '↩️', text: `Rolled back: the new release was not healthy; ${report.release?.live ?? 'the previous release'} serves again (${target})` }
  }
}

/** What the person reading the job should do next, most important first. */
export function nextSteps(report: DeployReport): string[] {
  const steps: string[] = []
  const restorable = report.restore.filter((h) => h.command)
  switch (report.result) {
    case 'deployed':
      if (report.warnings.length > 0) steps.push('Deployed, with warnings: read them below.')
      break
    case 'dry-run':
      steps.push('Nothing was changed. Run again without `dry-run: true` to send the planned commands.')
      break
    case 'aborted':
      steps.push('Nothing was changed by this job: the old processes still run. Fix the cause above and re-run the job.')
      if (report.restore.length > 0) steps.push('Yet other apps are missing or down: bring them back with the restore commands below.')
      break
    case 'failed':
      if (isSafetyAbort(report)) {
        const changed = [...new Set(report.violations.map((v) => v.name))]
        steps.push(
          restorable.length > 0
            ? `Bring back the other apps first: run the restore commands below on the host, as the user who owns the PM2 daemon.`
            : `Check the other apps now (${changed.join(', ') || 'see the table'}): \`pm2 ls\` on the host, as the daemon's user.`
        )
        steps.push(
          'Then find who changed them: every command this job sent is listed below and was checked to reach own processes only — ' +
            'look for another deploy or a person on the host at the same time, or an own app whose start script calls pm2.'
        )
      } else if (report.title === DAEMON_GONE_TITLE) {
        steps.push(
          'The PM2 daemon is gone, with every process it ran: on the host, as the user who owns it, check `ps` for apps left running as orphans, ' +
            (restorable.length > 0 ? 'then run the restore command below (`pm2 resurrect`),' : 'then start the daemon and the apps from their ecosystem files,') +
            ' and re-run this deploy. Do not run `pm2 ls` or `pm2 start` first: they start an empty daemon.'
        )
      } else {
        steps.push('Own processes were changed and are not healthy: read the cause above and the last log lines of each failing process in the log.')
        steps.push(
          report.release?.switched
            ? `The rollback did not bring the previous release back healthy: see what runs now above. \`${report.release.link}\` names ${report.release.live ?? 'nothing'}.`
            : 'To roll back, re-run the deploy of the last good commit. `pm2 save` was not run, so the saved process list is the old one.'
        )
        if (report.restore.length > 0) steps.push('Other apps are missing or down too: bring them back with the restore commands below.')
      }
      break
    case 'rolled-back':
      steps.push('The new release failed (the cause is above) and the previous release was put back and verified: the app serves the previous release.')
      steps.push('Fix the release and deploy again. `pm2 save` was not run, so the saved process list is the last good one.')
      break
  }
  return steps
}

// ---------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------

export function fmtUptime(startedAt: number | null, at: string): string {
  if (!startedAt) return '–'
  const s = Math.max(0, Math.round((Date.parse(at) - startedAt) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  if (s < 172800) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

export function fmtMem(bytes: number | null): string {
  return bytes == null ? '–' : `${(bytes / 1048576).toFixed(1)} MB`
}

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

const arrow = (a: string, b: string) => `${a} → ${b}`

export interface OwnRow {
  name: string
  pmId: string
  status: string
  pid: string
  restarts: string
  uptime: string
  memory: string
}

/** Own processes, before → after, one row per process (paired by name, then pm_id order). */
export function ownRows(report: DeployReport): OwnRow[] {
  const rows: OwnRow[] = []
  for (const name of report.ownNames) {
    const b = report.processes.before.filter((p) => p.name === name)
    const a = report.processes.after.filter((p) => p.name === name)
    const n = Math.max(b.length, a.length, 1)
    for (let i = 0; i < n; i++) {
      const x = b[i]
      const y = a[i]
      const ids = [...new Set([x?.pmId, y?.pmId].filter((id) => id !== undefined))]
      rows.push({
        name,
        pmId: ids.length ? ids.join(' → ') : '–',
        status: arrow(x?.status ?? '–', y?.status ?? '–'),
        pid: arrow(x ? String(x.pid) : '–', y ? String(y.pid) : '–'),
        restarts: arrow(x ? String(x.restarts) : '–', y ? String(y.restarts) : '–'),
        uptime: arrow(x ? fmtUptime(x.startedAt, report.startedAt) : '–', y ? fmtUptime(y.startedAt, report.finishedAt) : '–'),
        memory: arrow(x ? fmtMem(x.memory) : '–', y ? fmtMem(y.memory) : '–')
      })
    }
  }
  return rows
}

export interface OtherRow {
  name: string
  namespace: string
  count: string
  status: string
  /** Violation kinds for this name; empty when unchanged. */
  changes: string[]
}

function statusSummary(ps: readonly ProcessRecord[]): string {
  if (ps.length === 0) return '–'
  const byStatus = new Map<string, number>()
  for (const p of ps) byStatus.set(p.status, (byStatus.get(p.status) ?? 0) + 1)
  return [...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')
}

/** True when the report holds a process list from the end of the run. */
function afterKnown(report: DeployReport): boolean {
  return report.snapshots.after !== null || report.processes.after.length > 0
}

/** Other apps grouped by name: count and status, before → after. */
export function otherRows(report: DeployReport): OtherRow[] {
  const own = new Set(report.ownNames)
  const all = [...report.processes.before, ...report.processes.after].filter((p) => !own.has(p.name))
  const names = [...new Set(all.map((p) => p.name))].sort()
  const known = afterKnown(report)
  return names.map((name) => {
    const b = report.processes.before.filter((p) => p.name === name)
    const a = report.processes.after.filter((p) => p.name === name)
    const namespaces = [...new Set([...b, ...a].map((p) => p.namespace))]
    return {
      name,
      namespace: namespaces.join(', '),
      count: arrow(String(b.length), known ? String(a.length) : '?'),
      status: arrow(statusSummary(b), known ? statusSummary(a) : '?'),
      changes: [...new Set(report.violations.filter((v) => v.name === name).map((v) => v.kind))]
    }
  })
}

function timingEntries(report: DeployReport): [string, number][] {
  return Object.entries(report.timings)
}

function noProcessList(report: DeployReport): boolean {
  return report.snapshots.before === null && report.processes.before.length === 0 && report.processes.after.length === 0
}

// ---------------------------------------------------------------------------------
// Markdown (job summary)
// ---------------------------------------------------------------------------------

/** Text in a Markdown table cell or line: no HTML, no cell breaks, no line breaks. */
export function md(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

/** A code span that survives any content, inside a table cell too. */
export function mdCode(s: string): string {
  const runs = s.match(/`+/g) ?? []
  const ticks = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1)
  const body = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : ''
  return `${ticks}${pad}${body}${pad}${ticks}`
}

/** A fenced code block that no content can close early. */
function mdFence(lines: readonly string[], info = ''): string[] {
  const runs = lines.join('\n').match(/`{3,}/g) ?? []
  const fence = '`'.repeat(Math.max(2, ...runs.map((r) => r.length)) + 1)
  return [fence + info, ...lines, fence]
}

export function mdTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)]
}

/** The message as a block quote, line by line (lists in it stay lists). */
export function mdQuote(text: string): string[] {
  return text.split(/\r?\n/).map((l) => (l.trim() === '' ? '>' : `> ${mdInline(l)}`))
}

/** Our own sentences with `code` in them: escape HTML outside code spans only. */
function mdInline(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`')
}

/** What is wrong with a restore hint's app and what its command does. */
export function hintAction(h: RestoreHint): string {
  const where = [h.execMode, h.namespace !== 'default' ? `namespace ${h.namespace}` : ''].filter(Boolean).join(', ')
  switch (h.kind) {
    case 'start':
      return `${h.missing === 1 ? 'its process is' : `its ${h.missing} processes are`} gone → start it again from the snapshot (${where})`
    case 'scale':
      return `${h.missing} of its ${h.before} processes gone → scale it back to ${h.before}`
    case 'restart':
      return 'still listed, no longer online → restart it'
    case 'resurrect':
      return h.command
        ? `gone → \`pm2 resurrect\` starts them from PM2's saved process list (saved ${h.dumpSavedAt ?? '?'}): ${(h.wouldStart ?? []).join(', ')}`
        : 'gone with the PM2 daemon, and no saved process list to bring them back from'
  }
}

function restoreBlock(report: DeployReport, style: 'md' | 'log'): string[] {
  if (report.restore.length === 0) return []
  const out: string[] = []
  const commands = report.restore.filter((h) => h.command).map((h) => h.command!)
  const general = [...new Set(report.restore.flatMap((h) => h.caveats.filter((c) => c === ARGS_NOT_RECORDED)))]
  const specific = (h: RestoreHint) => h.caveats.filter((c) => c !== ARGS_NOT_RECORDED)
  if (style === 'md') {
    out.push('', '### Restore the other apps', '')
    for (const h of report.restore) {
      out.push(`- ${mdCode(h.name)}: ${md(hintAction(h))}${h.command ? '' : ' — **no safe one-line command**'}`)
      for (const c of specific(h)) out.push(`  - ${mdInline(c)}`)
    }
    if (commands.length > 0) {
      out.push('', "Run on the host, as the user who owns the PM2 daemon:", '', ...mdFence(commands, 'sh'))
    }
    for (const c of general) out.push('', `${mdInline(c)}`)
  } else {
    out.push('', "Restore the other apps (from the before-snapshot):")
    for (const h of report.restore) {
      out.push(`  - ${h.name}: ${hintAction(h)}${h.command ? '' : ' (no safe one-line command)'}`)
      for (const c of specific(h)) out.push(`      ${c}`)
    }
    if (commands.length > 0) {
      out.push("  Run on the host, as the user who owns the PM2 daemon:")
      for (const c of commands) out.push(`    ${c}`)
    }
    for (const c of general) out.push(`  ${c}`)
  }
  return out
}

/** The job summary (Markdown): verdict first, then what to do, then the evidence. */
export function renderSummary(report: DeployReport): string {
  const out: string[] = []
  const v = verdictHeadline(report)
  out.push(`## ${v.icon} ${md(v.text)}`, '')
  out.push(...mdQuote(report.message))
  const steps = nextSteps(report)
  if (steps.length > 0) {
    out.push('', '**What to do**', '')
    steps.forEach((s, i) => out.push(`${i + 1}. ${mdInline(s)}`))
  }
  if (report.violations.length > 0) {
    out.push('', '### Other apps that changed', '')
    out.push(...mdTable(['app', 'what changed', 'detail'], report.violations.map((x) => [mdCode(x.name), x.kind, md(x.detail)])))
  }
  out.push(...restoreBlock(report, 'md'))
  if (report.warnings.length > 0) {
    out.push('', '### Warnings', '')
    for (const w of report.warnings) out.push(`- ⚠️ ${md(w)}`)
  }
  out.push('', `### Own processes (${report.ownNames.length} name${report.ownNames.length === 1 ? '' : 's'}), before → after`, '')
  if (noProcessList(report)) out.push("Not read: the action stopped before it read PM2's process list.")
  else {
    out.push(
      ...mdTable(
        ['name', 'pm_id', 'status', 'pid', 'restarts', 'uptime', 'memory'],
        ownRows(report).map((r) => [mdCode(r.name), r.pmId, r.status, r.pid, r.restarts, r.uptime, r.memory])
      )
    )
  }
  const others = otherRows(report)
  out.push('', `### Other apps on this daemon (${others.length}), before → after`, '')
  if (noProcessList(report)) out.push('Not read.')
  else if (others.length === 0) out.push('None.')
  else {
    out.push(
      ...mdTable(
        ['app', 'namespace', 'processes', 'status', ''],
        others.map((r) => [mdCode(r.name), mdCode(r.namespace), r.count, md(r.status), r.changes.length ? `⚠️ ${r.changes.join(', ')}` : 'unchanged'])
      )
    )
  }
  out.push('', '### Commands sent', '')
  if (report.commands.length > 0) {
    out.push(...mdFence(report.commands.map((c) => `${c.command}   → exit ${c.exitCode} (${fmtMs(c.ms)})`)))
  } else {
    out.push(report.dryRun ? 'None: dry run.' : 'None: nothing was changed.')
    if (report.plan.length > 0) {
      out.push('', 'Planned (not sent):', '')
      out.push(...mdFence(report.plan.map((p) => `${p.command}   # ${p.why}`)))
    }
  }
  if (report.checks.length > 0) {
    out.push('', '### Checks', '')
    for (const c of report.checks) out.push(`- ${c.ok ? '✅' : '❌'} ${md(c.name)}: ${md(c.detail)}`)
  }
  out.push('', '### Timings', '')
  out.push(...mdTable(['phase', 'time'], timingEntries(report).map(([k, ms]) => [md(k), fmtMs(ms)])))
  out.push('', '<details><summary>Workflow metadata</summary>', '')
  const m = report.metadata
  if (m) out.push(...mdTable(['field', 'value'], Object.entries(m).filter(([, x]) => x !== null && x !== '').map(([k, x]) => [k, md(String(x))])))
  else out.push('Not collected: the inputs were invalid.')
  out.push('', `Report schema v${report.schemaVersion} · started ${report.startedAt} · finished ${report.finishedAt}`, '', '</details>', '')
  return out.join('\n')
}

// ---------------------------------------------------------------------------------
// Log
// ---------------------------------------------------------------------------------

export function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)))
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd())
}

/** A line starting with `::` would be read by the runner as a workflow command. */
function defuse(line: string): string {
  return line.replace(/^(\s*):(?=:)/, '$1: ')
}

/** The same verdict and tables for the log, compact: Gitea before 1.27 shows no job summary. */
export function renderLogVerdict(report: DeployReport): string {
  const out: string[] = []
  const v = verdictHeadline(report)
  out.push(`==== pm2-safe-deploy: ${v.icon} ${v.text} [${report.result}] ====`)
  for (const l of report.message.split(/\r?\n/)) out.push(`  ${l}`)
  const steps = nextSteps(report)
  if (steps.length > 0) {
    out.push('What to do:')
    for (const s of steps) out.push(`  - ${s}`)
  }
  if (report.violations.length > 0) {
    out.push('Other apps that changed:')
    for (const x of report.violations) out.push(`  ! ${x.name}: ${x.kind}: ${x.detail}`)
  }
  out.push(...restoreBlock(report, 'log'))
  for (const w of report.warnings) out.push(`warning: ${w}`)
  out.push('', 'Own processes, before → after:')
  if (noProcessList(report)) out.push("  not read: the action stopped before it read PM2's process list")
  else {
    const rows = ownRows(report).map((r) => [r.name, r.pmId, r.status, r.pid, r.restarts, r.uptime, r.memory])
    out.push(...pad([['name', 'pm_id', 'status', 'pid', 'restarts', 'uptime', 'memory'], ...rows]).map((l) => '  ' + l))
  }
  const others = otherRows(report)
  out.push(`Other apps (${others.length}), before → after:`)
  if (others.length > 0) {
    const rows = others.map((r) => [r.name, r.namespace, r.count, r.status, r.changes.length ? `CHANGED: ${r.changes.join(', ')}` : ''])
    out.push(...pad([['app', 'namespace', 'processes', 'status', ''], ...rows]).map((l) => '  ' + l))
  }
  if (report.commands.length > 0) {
    out.push('Commands sent:')
    for (const c of report.commands) out.push(`  ${c.command} → exit ${c.exitCode} (${fmtMs(c.ms)})`)
  } else {
    out.push(`Commands sent: none${report.plan.length > 0 ? `; planned: ${report.plan.map((p) => p.command).join('; ')}` : ''}`)
  }
  out.push(`Timings: ${timingEntries(report).map(([k, ms]) => `${k} ${fmtMs(ms)}`).join(' · ')}`)
  return out.flatMap((l) => l.split(/\r?\n/)).map(defuse).join('\n')
}

// ---------------------------------------------------------------------------------
// Annotation
// ---------------------------------------------------------------------------------

/** The ::error annotation for an abort or failure: a title, the cause, the first step, the restore commands. */
export function renderAnnotation(report: DeployReport): { title: string; message: string } | null {
  if (report.result !== 'aborted' && report.result !== 'failed' && report.result !== 'rolled-back') return null
  const title = `pm2-safe-deploy: ${isSafetyAbort(report) && report.result === 'failed' ? 'SAFETY ABORT' : report.title || report.result}`
  const lines = [report.message]
  const first = nextSteps(report)[0]
  if (first) lines.push(`What to do: ${first}`)
  const commands = report.restore.filter((h) => h.command).map((h) => h.command!)
  if (commands.length > 0) lines.push('Restore:', ...commands.map((c) => `  ${c}`))
  return { title, message: lines.join('\n') }
}

// Who runs an own name (SPEC "Who owns what"): a running process with an own name is ours
// only if it runs from this deploy's own directories; else it is another project's that
// chose the same generic name. Pure: the shell gathers the paths and the real cwd/script.
import path from 'node:path'
import { isWithin } from './release.js'

/** A symlink on a deploy path, as the file system resolves it. */
export interface LinkOnPath {
  /** The symlink itself, as it appears on the path. */
  link: string
  /** The real path of the directory that holds the link. */
  realParent: string
  /** The real path the link leads to; null when it dangles. */
  realTarget: string | null
}

/** One path the deploy names (working-directory, an app's cwd, current-link, …). */
export interface DeployPath {
  /** What names it, for the message: `working-directory`, `current-link`, `api cwd`, … */
  role: string
  /** The absolute path as given. */
  path: string
  /** Its real path: symlinks resolved (a missing tail kept as written). */
  real: string
  /** Every symlink on the path, outermost first. */
  links: readonly LinkOnPath[]
}

/**
 * The deploy's own directories: each path as given and as its real path, and, for the
 * innermost symlink of a path (a `current` link switched by hand), the directory that holds
 * its target, the releases, when they live beside the link (in its directory or below it).
 * A symlink higher up (`/home` → `/usr/home`) or one leading elsewhere (`~/apps` →
 * `/mnt/disk/apps`) does not make the directory holding its target own: that would be every
 * project beside it.
 */
export function ownDirectories(paths: readonly DeployPath[]): string[] {
  const dirs = new Set<string>()
  for (const p of paths) {
    dirs.add(p.path)
    dirs.add(p.real)
    const innermost = p.links.at(-1)
    const holder = innermost?.realTarget ? path.dirname(innermost.realTarget) : null
    if (innermost && holder && innermost.realParent !== path.parse(innermost.realParent).root && isWithin(holder, innermost.realParent)) dirs.add(holder)
  }
  // A directory inside another one adds nothing: the shortest list says the same.
  const sorted = [...dirs].sort()
  return sorted.filter((d) => !sorted.some((o) => o !== d && isWithin(d, o)))
}

/** A process with an own name, with what it really runs (real paths; null when unknown). */
export interface OwnNamedProcess {
  pmId: number
  name: string
  pid: number
  /** The real cwd: /proc/<pid>/cwd, else PM2's pm_cwd resolved. */
  cwd: string | null
  /** The real script: PM2's pm_exec_path resolved. */
  script: string | null
}

export interface IdentityInput {
  ownDirs: readonly string[]
  /** Every process with an own name, whatever its status. */
  processes: readonly OwnNamedProcess[]
  /** `adopt: true`: own names are ours wherever they run. */
  adopt: boolean
  /** Where the last recorded deploys of this app and suffix left each own name (the audit log): those processes are ours. */
  recorded?: Readonly<Record<string, RecordedDirectories>>
}

export interface IdentityVerdict {
  ok: boolean
  /** Processes whose real cwd and real script both lie outside every own directory. */
  foreign: OwnNamedProcess[]
  /** For the report's check. */
  detail: string
  /** The refusal, naming each process, its directory and the fix; null when ok. */
  message: string | null
}

const inside = (p: string | null, dirs: readonly string[]) => p !== null && dirs.some((d) => isWithin(p, d))

/** Whether a process runs another project's code: everything known about it lies outside the own directories. */
export function isForeign(p: OwnNamedProcess, ownDirs: readonly string[]): boolean {
  if (p.cwd === null && p.script === null) return false
  return !inside(p.cwd, ownDirs) && !inside(p.script, ownDirs)
}

/** A path from the process list, printable on one line (another project's path may hold anything). */
export const shownPath = (p: string | null): string =>
  p === null ? '(unknown)' : [...p].map((c) => (c < ' ' || c === '\u007f' ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c)).join('')

const describe = (p: OwnNamedProcess) => `${p.name} (pm_id ${p.pmId}, pid ${p.pid}) runs from ${shownPath(p.cwd)}, script ${shownPath(p.script)}`

/** Whether a previous deploy of this app left `p` where it runs (an older release this action started, say). */
const leftThereBefore = (p: OwnNamedProcess, recorded: IdentityInput['recorded']) => p.cwd !== null && (recorded?.[p.name]?.directories.includes(p.cwd) ?? false)

/** The identity check: every own-named process runs from the own directories (or where this app's last deploy left it), or `adopt` takes it over. */
export function judgeIdentity(input: IdentityInput): IdentityVerdict {
  const outside = input.processes.filter((p) => isForeign(p, input.ownDirs))
  const foreign = outside.filter((p) => !leftThereBefore(p, input.recorded))
  const where = input.ownDirs.map(shownPath).join(', ')
  if (foreign.length === 0) {
    const known = outside.length > 0 ? `; ${outside.length} where the last recorded deploy of this app left them` : ''
    return { ok: true, foreign, detail: `${input.processes.length} process(es) with own names, all run from this deploy's directories (${where})${known}`, message: null }
  }
  if (input.adopt) {
    return { ok: true, foreign, detail: `adopt: true: taking over ${foreign.map(describe).join('; ')}`, message: null }
  }
  const names = [...new Set(foreign.map((p) => p.name))]
  const message =
    `Another project runs a process with an own name, nothing was changed:\n` +
    foreign.map((p) => `- ${describe(p)}: outside this deploy's directories`).join('\n') +
    `\nThis deploy's directories: ${where}.\n` +
    `A process with an own name that runs from elsewhere belongs to another project that chose the same name (${names.map((n) => `"${n}"`).join(', ')}). ` +
    `Stop or rename that process (or rename this app's), or set \`adopt: true\` to take over own names wherever they run.`
  return { ok: false, foreign, detail: foreign.map((p) => `${describe(p)}: another project's`).join('; '), message }
}

/** Each own name → the real directories its processes run from, sorted, for the audit record. */
export function directoriesByName(processes: readonly OwnNamedProcess[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const p of processes) {
    if (p.cwd === null) continue
    const dirs = (out[p.name] ??= [])
    if (!dirs.includes(p.cwd)) dirs.push(p.cwd)
  }
  for (const dirs of Object.values(out)) dirs.sort()
  return out
}

/** Where an own name ran at the last deploy that recorded it (the audit log's `ownDirectories`). */
export interface RecordedDirectories {
  directories: readonly string[]
  time: string
  runUrl: string | null
}

/**
 * With only a whitelist, names alone declare ownership: a warning for each own name whose
 * processes now run from a directory the last deploy that recorded it did not.
 */
export function movedWarnings(previous: Readonly<Record<string, RecordedDirectories>>, now: Readonly<Record<string, readonly string[]>>): string[] {
  const out: string[] = []
  for (const [name, dirs] of Object.entries(now)) {
    const was = previous[name]
    if (!was || was.directories.length === 0) continue
    const moved = dirs.filter((d) => !was.directories.includes(d))
    if (moved.length === 0) continue
    out.push(
      `${name} runs from ${moved.map(shownPath).join(', ')}, but ran from ${was.directories.map(shownPath).join(', ')} at the last recorded deploy ` +
        `(${was.time}${was.runUrl ? `, ${was.runUrl}` : ''}). If that is another project's process with the same name, ` +
        `stop or rename it: with only a \`whitelist\`, names alone declare ownership (an \`ecosystem\` file or \`current-link\` lets the deploy refuse it)`
    )
  }
  return out
}

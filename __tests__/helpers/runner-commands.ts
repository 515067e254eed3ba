// The workflow commands a step's output gives each runner, read the way the runners' sources
// read them: GitHub's actions/runner (ActionCommandManager.TryProcessCommand over
// ActionCommand.TryParseV2, then TryParse for the `##[` v1 form, with stop-commands), act
// (nektos/act and Gitea's fork, pkg/runner/command.go commandPatternGA/ADO) and Gitea's
// act_runner reporter (cmdRegex). Ports for tests, not a runner.

export interface RunnerCommand {
  command: string
  properties: Record<string, string>
  data: string
  line: string
}

/** actions/runner: stop-commands and every registered IActionCommandExtension. */
export const GITHUB_COMMANDS = [
  'stop-commands', 'set-env', 'set-output', 'save-state', 'add-mask', 'add-path', 'add-matcher', 'remove-matcher',
  'debug', 'warning', 'error', 'notice', 'group', 'endgroup', 'echo'
]

/** .NET char.IsWhiteSpace, which TrimStart() uses. */
const DOTNET_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/

/** Characters ICU may skip in the runner's culture-sensitive StartsWith/IndexOf: dropped first, a superset of what the runner matches. */
const ICU_IGNORABLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu

const unescape = (s: string, extra: [string, string][] = []) =>
  [['%0D', '\r'], ['%0A', '\n'], ...extra, ['%25', '%']].reduce((v, [from, to]) => v.split(from!).join(to!), s)

function properties(text: string, separator: string, trim: boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (trim ? text.trim() : text).split(separator).filter((p) => p !== '')) {
    const at = pair.indexOf('=')
    if (at > 0 && at < pair.length - 1) out[pair.slice(0, at)] = unescape(pair.slice(at + 1), [['%3A', ':'], ['%2C', ',']])
  }
  return out
}

/** ActionCommand.TryParseV2: `::name props::data` after TrimStart. */
function tryParseV2(message: string, registered: (name: string) => boolean): Omit<RunnerCommand, 'line'> | null {
  const m = message.replace(DOTNET_SPACE, '')
  if (!m.startsWith('::')) return null
  const end = m.indexOf('::', 2)
  if (end < 0) return null
  const info = m.slice(2, end)
  const space = info.indexOf(' ')
  const command = space < 0 ? info : info.slice(0, space)
  if (!registered(command)) return null
  return { command, properties: space > 0 ? properties(info.slice(space + 1), ',', true) : {}, data: unescape(m.slice(end + 2)) }
}

/** ActionCommand.TryParse: `##[name props]data` anywhere in the line. */
function tryParseV1(message: string, registered: (name: string) => boolean): Omit<RunnerCommand, 'line'> | null {
  const at = message.indexOf('##[')
  if (at < 0) return null
  const rb = message.indexOf(']', at)
  if (rb < 0) return null
  const info = message.slice(at + 3, rb)
  const space = info.indexOf(' ')
  const command = space < 0 ? info : info.slice(0, space)
  if (!registered(command)) return null
  return { command, properties: space > 0 ? properties(info.slice(space + 1), ';', false) : {}, data: unescape(message.slice(rb + 1), [['%3B', ';'], ['%5D', ']']]) }
}

/** One line as GitHub's parser reads it (no stop state); `anyName` treats every name as registered. */
export function githubParse(line: string, anyName = false): Omit<RunnerCommand, 'line'> | null {
  const names = new Set(GITHUB_COMMANDS)
  const registered = (n: string) => n !== '' && (anyName || names.has(n.toLowerCase()))
  const m = line.replace(ICU_IGNORABLE, '')
  return tryParseV2(m, registered) ?? tryParseV1(m, registered)
}

/** The commands GitHub's runner processes in a step's output, stop-commands honoured. */
export function githubCommands(output: string): RunnerCommand[] {
  const out: RunnerCommand[] = []
  let stopToken: string | null = null
  for (const line of output.split(/\r\n|\r|\n/)) {
    const names = new Set<string>([...GITHUB_COMMANDS, ...(stopToken !== null ? [stopToken.toLowerCase()] : [])])
    const m = line.replace(ICU_IGNORABLE, '')
    const registered = (n: string): boolean => names.has(n.toLowerCase())
    const cmd: Omit<RunnerCommand, 'line'> | null = tryParseV2(m, registered) ?? tryParseV1(m, registered)
    if (!cmd) continue
    if (stopToken !== null) {
      if (cmd.command.toLowerCase() === stopToken.toLowerCase()) {
        out.push({ ...cmd, line })
        stopToken = null
      }
      continue
    }
    if (cmd.command.toLowerCase() === 'stop-commands') stopToken = cmd.data
    out.push({ ...cmd, line })
  }
  return out
}

const ACT_GA = /^::([^ ]+)( (.+))?::([^\r\n]*)[\r\n]+$/
const ACT_ADO = /^##\[([^ ]+)( (.+))?]([^\r\n]*)[\r\n]+$/

/** One line (its "\n" included) as act reads it. */
export function actParse(line: string): Omit<RunnerCommand, 'line'> | null {
  const ga = ACT_GA.exec(line)
  if (ga) return { command: ga[1]!, properties: properties(ga[3] ?? '', ',', false), data: unescape(ga[4]!) }
  const ado = ACT_ADO.exec(line)
  if (ado) return { command: ado[1]!, properties: properties(ado[3] ?? '', ';', false), data: unescape(ado[4]!) }
  return null
}

/** The commands act (and Gitea's act) processes in a step's output, stop-commands honoured. */
export function actCommands(output: string): RunnerCommand[] {
  const out: RunnerCommand[] = []
  let resume = ''
  for (const raw of output.split('\n')) {
    const cmd = actParse(raw + '\n')
    if (!cmd) continue
    if (resume !== '' && cmd.command !== resume) continue
    if (cmd.command === 'stop-commands') resume = cmd.data
    else if (cmd.command === resume) resume = ''
    out.push({ ...cmd, line: raw })
  }
  return out
}

const GITEA_REPORTER = /^::([^ :]+)( .*)?::(.*)$/

/** One line as Gitea's act_runner reporter reads it (trailing \r and \n trimmed). */
export function giteaReporterParse(line: string): { command: string; data: string } | null {
  const m = GITEA_REPORTER.exec(line.replace(/[\r\n]+$/, ''))
  return m ? { command: m[1]!, data: m[3]! } : null
}

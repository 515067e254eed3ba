// Promise 14 for a remote host's log: of the workflow commands the host's own run() writes, only
// annotations and log groups are re-issued on the runner; every other line (set-output,
// add-mask, stop-commands, save-state, debug, an app's text) is shown as text.

export type RelayedCommand =
  | { kind: 'error' | 'warning' | 'notice'; message: string; properties: Record<string, string> }
  | { kind: 'group'; title: string }
  | { kind: 'endgroup' }

const RELAYED = /^::(error|warning|notice|group|endgroup)(?: ([^:]*))?::(.*)$/
const PROPERTIES = new Set(['title', 'file', 'line', 'endLine', 'col', 'endColumn'])

/** Undoes @actions/core's escaping of command data (`%25`, `%0D`, `%0A`) and properties (also `%3A`, `%2C`). */
export function unescapeCommandValue(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
}

/** A host line that is one of the relayed commands, or null: the line is then text. */
export function relayedCommand(line: string): RelayedCommand | null {
  const m = line.match(RELAYED)
  if (!m) return null
  const [, kind, props, data] = m
  if (kind === 'endgroup') return { kind: 'endgroup' }
  if (kind === 'group') return { kind: 'group', title: unescapeCommandValue(data!) }
  const properties: Record<string, string> = {}
  for (const pair of (props ?? '').split(',')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    const name = pair.slice(0, eq).trim()
    if (PROPERTIES.has(name)) properties[name] = unescapeCommandValue(pair.slice(eq + 1))
  }
  return { kind: kind as 'error' | 'warning' | 'notice', message: unescapeCommandValue(data!), properties }
}

// Promise 14: text the action did not compose (app logs, process names, pm2's, the reader's
// and a remote host's output) reaches the runner as text, never as a workflow command.
// Pure: every printer of such text goes through asText (src/shell/print.ts).
//
// What each runner reads as a command, from its source:
// - GitHub, actions/runner src/Runner.Common/ActionCommand.cs TryParseV2: the line after
//   TrimStart() (.NET whitespace, U+0085 included) starts with `::` and holds a second `::`.
// - GitHub, TryParse (the v1 form, tried when v2 fails): `##[` ANYWHERE in the line, then a
//   name up to ' ' or ']'. Both compare culture-sensitively (string StartsWith/IndexOf; the
//   worker sets no InvariantGlobalization), and ICU skips format and zero-width characters
//   there: `:\u200b:` may count as `::`, so the rules below skip them too.
// - nektos/act and Gitea's act (pkg/runner/command.go commandPatternGA/ADO):
//   `^::name( props)?::data` and `^##[name( props)?]data` at the very start of a line only;
//   Gitea's act_runner reporter: `^::([^ :]+)( .*)?::(.*)$`. All three honour stop-commands.
// All runners split lines at \n, \r and \r\n (.NET StreamReader.ReadLine; act at \n).

/** Characters a culture-sensitive (ICU) comparison may skip: controls, format and default-ignorable code points. */
const IGNORABLE = '[\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}]'

/** The v2 form as GitHub may read it (a superset of act's and Gitea's `^::`): `::` after whitespace or ignorables. */
const V2_START = new RegExp(`^(?:\\s|${IGNORABLE})*:${IGNORABLE}*:`, 'u')

/** The v1 form anywhere in the line, ignorables allowed between its characters. */
const V1_PREFIX = new RegExp(`#(${IGNORABLE}*)#(${IGNORABLE}*)\\[`, 'gu')

/** Shown before a neutralised line: visible, so a reader sees the line was the app's, not the action's. */
export const NEUTRAL_MARK = '⟩ '

/** The line breaks every runner splits at. */
const LINE_BREAK = /\r\n|\r|\n/

/** One line made safe: a visible mark in front (no runner trims it), every `##[` broken by a space (not an ignorable). */
function neutralise(line: string): string {
  const broken = line.replace(V1_PREFIX, '#$1#$2 [')
  return broken !== line || V2_START.test(line) ? NEUTRAL_MARK + broken : line
}

/** True when a line could act as a workflow command on some runner (before neutralising). */
export function looksLikeCommand(line: string): boolean {
  return V2_START.test(line) || new RegExp(V1_PREFIX.source, 'u').test(line)
}

/** A block of untrusted text, split into lines as the runners split them, each safe to print. */
export function linesAsText(text: string): string[] {
  return text.split(LINE_BREAK).map(neutralise)
}

/** Untrusted text, safe to print as it is: each of its lines neutralised (a line break inside stays one). */
export function asText(text: string): string {
  return linesAsText(text).join('\n')
}

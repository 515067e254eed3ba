// Promise 14: text the action did not compose (app logs, process names, pm2's, the reader's
// and a remote host's output) reaches the runner as text, never as a workflow command.
// Pure: every printer of such text goes through asText (src/shell/print.ts).

/** A line a runner could read as a command: `::cmd…::` at the start (GitHub trims first; act does not), or `##[cmd]` (the v1 form). */
const COMMAND_LIKE = /^\s*::|##\[/

/** Shown before a neutralised line: visible, so a reader sees the line was the app's, not the action's. */
export const NEUTRAL_MARK = '⟩ '

/** One line, safe to print: a command-like line gets a visible mark in front, and `##[` is broken up. */
export function asText(line: string): string {
  if (!COMMAND_LIKE.test(line)) return line
  return NEUTRAL_MARK + line.replace(/##\[/g, '#\u200b#[')
}

/** A block of untrusted text, split into lines, each safe to print. */
export function linesAsText(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map(asText)
}

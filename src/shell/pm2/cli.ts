// Runs the host's pm2 CLI through shell/exec.ts (argument arrays, a time bound, the clean
// environment, a working directory chosen by the caller) and reads its messages.
import { runBounded, type ChildOptions, type ChildResult } from '../exec.js'

export type CliResult = ChildResult

// eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

export async function runCli(executable: string, args: readonly string[], opts: ChildOptions): Promise<CliResult> {
  const result = await runBounded(executable, args, opts)
  return { ...result, stdout: stripAnsi(result.stdout), stderr: stripAnsi(result.stderr) }
}

/** PM2's own message lines ([PM2] …, errors), without the process table it prints after every command. */
export function pm2Messages(result: CliResult): string[] {
  return `${result.stdout}\n${result.stderr}`
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !/^[\s│├┌└┐┘┤┬┴┼─|+-]/.test(l))
}

// Runs the host's pm2 CLI: an argument array (never a shell), a bound on the time,
// the clean environment, and a working directory chosen by the caller.
import { spawn } from 'node:child_process'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  timedOut: boolean
  ms: number
}

// eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

export function runCli(
  executable: string,
  args: readonly string[],
  opts: { env: Record<string, string>; cwd: string; timeoutMs: number }
): Promise<CliResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(executable, args, { cwd: opts.cwd, env: opts.env, shell: false, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 3000).unref()
    }, opts.timeoutMs)
    const finish = (code: number) => {
      clearTimeout(timer)
      resolve({ code, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr), timedOut, ms: Date.now() - started })
    }
    child.on('error', (err) => {
      stderr += String(err.message)
      finish(127)
    })
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)))
  })
}

/** PM2's own message lines ([PM2] …, errors), without the process table it prints after every command. */
export function pm2Messages(result: CliResult): string[] {
  return `${result.stdout}\n${result.stderr}`
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !/^[\s│├┌└┐┘┤┬┴┼─|+-]/.test(l))
}

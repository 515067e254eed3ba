// Every child process the action starts (pm2, the ecosystem reader) goes through
// @actions/exec: an argument array, never a shell. @actions/exec has no timeout and hands
// out no child, so the bound on a call comes from coreutils `timeout` wrapped around it.
import * as exec from '@actions/exec'
import { findOnPath } from './which.js'

export interface ChildResult {
  code: number
  stdout: string
  stderr: string
  timedOut: boolean
  ms: number
}

export interface ChildOptions {
  env: Record<string, string>
  cwd: string
  timeoutMs: number
}

/** Seconds `timeout` waits after its SIGTERM before it sends SIGKILL. */
const KILL_AFTER_S = 3
/** `timeout`'s exit codes when it ended the command (SIGTERM, then SIGKILL). */
const TIMED_OUT_CODES = new Set([124, 137])

let timeoutTool: string | null | undefined
/** coreutils `timeout`, looked up once in the system directories first (a runner's PATH may be short). */
export function timeoutExecutable(): string | null {
  if (timeoutTool === undefined) timeoutTool = findOnPath('timeout', ['/usr/bin', '/bin', process.env.PATH ?? ''].join(':'))
  return timeoutTool
}

/** @actions/exec splits its first argument on spaces: quote the tool so a path with spaces stays one word. */
const quoteTool = (file: string) => `"${file.replace(/"/g, '\\"')}"`

/** Runs `executable args…` bounded by `timeoutMs`; never throws (a spawn failure is exit 127). */
export async function runBounded(executable: string, args: readonly string[], opts: ChildOptions): Promise<ChildResult> {
  const started = Date.now()
  const wrapper = timeoutExecutable()
  const [tool, argv] = wrapper
    ? [wrapper, [`--kill-after=${KILL_AFTER_S}`, `${Math.max(1, Math.ceil(opts.timeoutMs / 1000))}`, executable, ...args]]
    : [executable, [...args]]
  const running = exec
    .getExecOutput(quoteTool(tool), argv, { cwd: opts.cwd, env: opts.env, silent: true, ignoreReturnCode: true })
    .then((out) => ({ code: out.exitCode, stdout: out.stdout, stderr: out.stderr }))
    .catch((err: Error) => ({ code: 127, stdout: '', stderr: err.message }))
  // Without `timeout` (not Linux/coreutils) the wait is bounded here; the child is left to finish.
  const bound = wrapper ? null : new Promise<null>((resolve) => setTimeout(() => resolve(null), opts.timeoutMs).unref())
  const out = await (bound ? Promise.race([running, bound]) : running)
  const ms = Date.now() - started
  if (out === null) return { code: -1, stdout: '', stderr: `no answer within ${opts.timeoutMs / 1000} s`, timedOut: true, ms }
  const timedOut = wrapper !== null && TIMED_OUT_CODES.has(out.code) && ms >= opts.timeoutMs - 100
  return { ...out, timedOut, ms }
}

// The one printer of the job log (promise 14): every line goes through asText, so whatever
// the action did not compose (a log tail, pm2's output, a process name inside our own
// sentence, a remote host's lines) reaches the runner as text. ESLint keeps core.info here.
import { randomBytes } from 'node:crypto'
import * as core from '@actions/core'
import { linesAsText } from '../core/untrusted.js'

/** A line of the action's own, which may hold untrusted parts (names, paths, pm2's words): printed as text. */
export function printLine(text: string): void {
  for (const line of linesAsText(text)) core.info(line)
}

/** Prints lines the action did not compose as plain log lines, each neutralised. */
export function printUntrusted(lines: readonly string[], indent = ''): void {
  for (const line of lines.flatMap(linesAsText)) core.info(indent + line)
}

/**
 * Runs `print` inside GitHub's documented `::stop-commands::<token>` … `::<token>::` (act
 * and Gitea's act_runner honour it too), with a token no app can guess: defence in depth
 * around a block of untrusted lines, which are each neutralised anyway.
 */
export function guarded(print: () => void): void {
  const token = `pm2-safe-deploy-${randomBytes(12).toString('hex')}`
  core.info(`::stop-commands::${token}`)
  try {
    print()
  } finally {
    core.info(`::${token}::`)
  }
}

/** A warning annotation whose text may hold untrusted parts: each of its lines as text (@actions/core escapes the rest). */
export function warn(text: string, properties?: core.AnnotationProperties): void {
  core.warning(linesAsText(text).join('\n'), properties)
}

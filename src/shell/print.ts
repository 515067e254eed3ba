// The one printer of untrusted text (promise 14): whatever the action did not compose goes through here.
import * as core from '@actions/core'
import { linesAsText } from '../core/untrusted.js'

/** Prints lines the action did not compose (a log tail, pm2's output, a remote host's lines) as plain log lines. */
export function printUntrusted(lines: readonly string[], indent = ''): void {
  for (const line of lines.flatMap(linesAsText)) core.info(indent + line)
}

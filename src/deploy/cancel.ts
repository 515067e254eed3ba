// A cancelled job: GitHub sends SIGINT, then SIGTERM 7.5 s later, then SIGKILL; Gitea sends
// SIGKILL at once (the post step then releases the lock). One handler serves the whole
// sequence: it lets a pm2 command in flight finish (briefly), records the attempt once,
// releases the lock and exits; a later signal only says it is still at it.
import * as core from '@actions/core'
import { resolveAuditTarget, tryAppendAudit } from '../shell/audit.js'
import { auditOf } from './records.js'
import type { DeployState } from './state.js'
import { printLine, warn } from '../shell/print.js'

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
/** How long a pm2 command in flight may still take: well inside GitHub's 7.5 s to SIGTERM. */
const SETTLE_MS = 5000

export interface CancelHandler {
  dispose(): void
}

export function handleCancel(state: DeployState): CancelHandler {
  let first: NodeJS.Signals | null = null
  const onSignal = (signal: NodeJS.Signals) => {
    if (first) {
      printLine(`${signal} after ${first}: still recording the interrupted deploy and releasing the lock`)
      return
    }
    first = signal
    void interrupted(state, signal)
  }
  for (const s of SIGNALS) process.on(s, onSignal)
  return { dispose: () => SIGNALS.forEach((s) => process.removeListener(s, onSignal)) }
}

async function interrupted(state: DeployState, signal: NodeJS.Signals): Promise<void> {
  const settled = (await state.session?.settle(SETTLE_MS)) ?? true
  if (!settled) warn(`A pm2 command was still running ${signal === 'SIGINT' ? 'after Ctrl-C' : `after ${signal}`}; it may finish after this step ends.`)
  const changed = state.changed
  const message = `Deploy interrupted by ${signal} ${changed ? 'after sending pm2 commands: it may be half done' : 'before any change'}`
  const problem = tryAppendAudit(resolveAuditTarget(state.env, (name) => core.getInput(name)), auditOf(state, { result: changed ? 'failed' : 'aborted', message, report: null }))
  if (problem) warn(problem)
  const released = state.lock?.release() ?? false
  core.error(
    `Deploy interrupted by ${signal}; ${released ? 'the host lock was released' : 'no host lock was held'}.` +
      (changed ? ' Check the processes: the deploy may be half done.' : ' Nothing was changed.')
  )
  process.exit(1)
}

// A deploy that failed because the PM2 daemon went away under it is told as such: the
// own processes are not to blame, and the only restore that does not start an empty
// daemon is `pm2 resurrect` (src/core/report.ts).
import { DAEMON_GONE_TITLE, daemonGoneMessage } from '../core/report.js'
import type { DeployState } from './state.js'

/** After a stop with a session: whether the daemon is gone; if so, the outcome says it. */
export async function noteDaemonGone(state: DeployState): Promise<void> {
  const { session, inputs } = state
  // A rollback that ended verified had a daemon to verify with.
  if (!session || !inputs || !['failed', 'aborted'].includes(state.outcome.result)) return
  // `pm2 kill` stops the apps before the socket closes: when processes were seen stopping (the
  // action never stops any), watch the socket a while; otherwise one look, so a plain failure waits for nothing.
  const waitMs = state.sawStopping ? 10_000 : 0
  if (!(await session.goneWithin(waitMs))) return
  state.daemonGone = true
  state.outcome = { result: state.changed ? 'failed' : 'aborted', message: daemonGoneMessage(inputs.pm2Home, state.sent.length), title: DAEMON_GONE_TITLE }
}

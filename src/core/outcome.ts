// How a deploy that stopped early ends: the result, the message and the annotation title.
import { isUserError, UserError } from './errors.js'
import type { DeployResult } from './report-schema.js'

export type StopResult = Exclude<DeployResult, 'deployed'>

/** Ends the deploy with a result and a title of its own (`aborted` means nothing was changed). */
export class DeployStop extends UserError {
  constructor(
    readonly result: StopResult,
    message: string,
    readonly title: string
  ) {
    super(message)
  }
}

/** The outcome of an error that ended the deploy; `changed`: a pm2 command was sent. */
export function outcomeOf(err: unknown, changed: boolean): { result: StopResult; message: string; title: string } {
  if (err instanceof DeployStop) return { result: err.result, message: err.message, title: err.title }
  const result = changed ? 'failed' : 'aborted'
  if (isUserError(err)) return { result, message: err.message, title: changed ? 'Deploy failed' : 'Deploy refused' }
  return { result, message: `Unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, title: 'Unexpected error' }
}

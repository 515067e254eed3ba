// One base for every error whose message is written for the user: what was wrong and how
// to fix it. The orchestration classifies by this class alone; anything else is a bug and
// keeps its stack trace.
export class UserError extends Error {
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError
}

/** The message of anything thrown (a library may throw a non-Error). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

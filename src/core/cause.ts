// The cause first (issue 17): of a failing own process's last log lines, the one that reads
// like its error, so the annotation and the summary name it. Pure: lines in, one line out.

/** Words and codes an error line carries (Node, Python, Go, the libc errno names). */
const ERROR_LIKE = /error|exception|fatal|traceback|panic|\bE(?:CONN\w*|ADDRINUSE|NOENT|ACCES|PERM|TIMEDOUT|HOSTUNREACH)\b/i

/** A stack frame (`    at f (file:1:2)`, `  File "x.py", line 3`) or Python's header: they name no cause. */
const NOT_THE_CAUSE = /^\s+(at\s|File\s")|^Traceback \(most recent call last\)/

/** Terminal escape sequences and other control characters: not part of what a person reads. */
// eslint-disable-next-line no-control-regex
const CONTROL = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007|[\u0000-\u0008\u000b-\u001f\u007f]/g

/** The longest cause shown, in characters. */
export const MAX_CAUSE_CHARS = 240

/** A URL's password (`postgres://user:secret@host`) is replaced: a log line may carry one. */
export function redactUrlPasswords(line: string): string {
  return line.replace(/(\b[a-z][\w+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, '$1***@')
}

/** A log line as shown: no escapes or control characters, no URL password. */
export function cleanLogLine(line: string): string {
  return redactUrlPasswords(line.replace(CONTROL, ''))
}

/**
 * The cause of a failing process from its last log lines: the last line of its error log
 * that reads like an error (the most recent crash), else of its out log; null when none.
 * Bounded to MAX_CAUSE_CHARS; the caller prints it as untrusted text.
 */
export function causeLine(errLines: readonly string[], outLines: readonly string[]): string | null {
  for (const lines of [errLines, outLines]) {
    const found = [...lines].reverse().map(cleanLogLine).find((l) => ERROR_LIKE.test(l) && !NOT_THE_CAUSE.test(l))
    if (found) {
      const line = found.trim()
      return line.length > MAX_CAUSE_CHARS ? `${line.slice(0, MAX_CAUSE_CHARS - 1)}…` : line
    }
  }
  return null
}

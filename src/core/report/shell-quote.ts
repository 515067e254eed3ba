// Shell quoting for the commands a person pastes (restore hints, planned commands): any word, pasted as itself.
/**
 * Quotes one word for a POSIX shell (bash, zsh, dash): bare when it holds only safe
 * characters, else in single quotes. Control characters (a newline in a path, an
 * escape sequence) would be pasted invisibly, so such words use bash/zsh `$'…'`
 * quoting with every such byte escaped.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(word)) {
    let out = ''
    for (const ch of word) {
      const c = ch.codePointAt(0)!
      if (ch === '\\' || ch === "'") out += '\\' + ch
      else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0')
      else if ((c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0')
      else out += ch
    }
    return `$'${out}'`
  }
  return `'${word.replace(/'/g, `'\\''`)}'`
}

export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ')
}

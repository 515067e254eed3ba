// Markdown that no content can break: escaped text, code spans and fences, tables, quotes.
// Names, paths, pm2's words and log lines reach the summary: none may become HTML, a link,
// an image, emphasis, a table cell or a heading (promise 14, for the summary).

/** Inline Markdown characters, escaped with a backslash: code, emphasis, links and images, cells, strikethrough. */
const INLINE_SPECIAL = /[\\`*[\]|~]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu

// An `_` between letters or digits never emphasises (CommonMark's flanking rules): `pm_id` stays as it is.
/** Text anywhere in a line (a table cell, a list item, a heading): no HTML, no inline Markdown, no line breaks. */
export function md(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(INLINE_SPECIAL, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
}

/** A line's start that Markdown would read as a block (heading, list, setext underline, quote): escaped. */
function atLineStart(s: string): string {
  return s.replace(/^(\s*)(?:([#+=-])|(\d+)(?=[.)]))/, (_, sp: string, mark?: string, digits?: string) =>
    mark ? `${sp}\\${mark}` : `${sp}${digits}\\`
  )
}

/** A code span that survives any content, inside a table cell too. */
export function mdCode(s: string): string {
  const runs = s.match(/`+/g) ?? []
  const ticks = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1)
  const body = s.replace(/\r\n|\r|\n/g, ' ').replace(/\|/g, '\\|')
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : ''
  return `${ticks}${pad}${body}${pad}${ticks}`
}

/** A fenced code block that no content can close early. */
export function mdFence(lines: readonly string[], info = ''): string[] {
  const runs = lines.join('\n').match(/`{3,}/g) ?? []
  const fence = '`'.repeat(Math.max(2, ...runs.map((r) => r.length)) + 1)
  return [fence + info, ...lines, fence]
}

export function mdTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)]
}

/** A list item of ours inside a message (`- …`, `1. …`): kept a list item. */
const LIST_ITEM = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/

/** The message as a block quote, line by line: lists in it stay lists, any other block start is text, and its lines stay lines. */
export function mdQuote(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/)
  return lines.map((l, i) => {
    if (l.trim() === '') return '>'
    const item = LIST_ITEM.exec(l)
    if (item) return `> ${item[1]}${item[2]} ${atLineStart(mdInline(item[3]!))}`
    // A line followed by another line of text ends in a hard break: Markdown would join them into one.
    const next = lines[i + 1]
    const br = next !== undefined && next.trim() !== '' && !LIST_ITEM.test(next) ? '\\' : ''
    return `> ${atLineStart(mdInline(l))}${br}`
  })
}

/**
 * Our own sentences with `code` in them, which may hold untrusted parts: code spans found
 * as CommonMark finds them (a backtick run closed by the next run of the same length) stay
 * code; everything else is text, escaped; a backtick run that closes nothing is escaped too.
 */
export function mdInline(text: string): string {
  const s = text.replace(/\r\n|\r|\n/g, ' ')
  let out = ''
  let at = 0
  const runs = [...s.matchAll(/`+/g)]
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!
    if (open.index < at) continue
    const close = runs.slice(i + 1).find((r) => r[0].length === open[0].length)
    if (!close) continue
    out += md(s.slice(at, open.index)) + s.slice(open.index, close.index + close[0].length)
    at = close.index + close[0].length
    i = runs.indexOf(close)
  }
  return out + md(s.slice(at))
}

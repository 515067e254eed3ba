// Markdown that no content can break: escaped text, code spans and fences, tables, quotes.

/** Text in a Markdown table cell or line: no HTML, no cell breaks, no line breaks. */
export function md(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

/** A code span that survives any content, inside a table cell too. */
export function mdCode(s: string): string {
  const runs = s.match(/`+/g) ?? []
  const ticks = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1)
  const body = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')
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

/** The message as a block quote, line by line (lists in it stay lists). */
export function mdQuote(text: string): string[] {
  return text.split(/\r?\n/).map((l) => (l.trim() === '' ? '>' : `> ${mdInline(l)}`))
}

/** Our own sentences with `code` in them: escape HTML outside code spans only. */
export function mdInline(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`')
}


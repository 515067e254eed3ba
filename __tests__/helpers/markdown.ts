// The fenced code blocks of a Markdown file, each with where it is: its first line and the
// headings it sits under, so a test that checks README examples can say which one failed.

export type CodeBlock = {
  /** The info string's first word (`yaml`, `sh`, …), '' when none. */
  lang: string
  /** The block's lines, the fence's own indentation removed (a block inside a list item). */
  text: string
  /** 1-based line in the file of the block's first content line. */
  line: number
  /** The headings above it, outermost first, e.g. `## Use it › ### GitHub Actions`. */
  heading: string
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/

/** Every fenced code block, in file order. An unclosed fence runs to the end of the file. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n')
  const blocks: CodeBlock[] = []
  const headings: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const heading = line.match(/^(#{2,6}) \S/)
    if (heading) {
      headings.splice(heading[1]!.length - 2)
      headings.push(line.trim())
      continue
    }
    const open = line.match(FENCE)
    if (!open) continue
    const [, indent, fence] = open
    const close = new RegExp(`^\\s*${fence![0] === '`' ? '`' : '~'}{${fence!.length},}\\s*$`)
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length && !close.test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!.trimStart())
    blocks.push({ lang: open[3] ?? '', text: body.join('\n') + '\n', line: i + 2, heading: headings.filter(Boolean).join(' › ') })
    i = j
  }
  return blocks
}

// Renders a job summary (Markdown) as GitHub would, closely enough to look at it: GitHub's
// own cmark-gfm with its extensions (tables, strikethrough, autolinks, the tag filter), raw
// HTML kept as GitHub keeps <details>, in a page styled like GitHub's Markdown; then, with
// --png, a headless Chromium screenshot. For people, not tests: needs Debian's `cmark-gfm`
// and `chromium` (apt-get install -y cmark-gfm chromium).
//   node scripts/render-summary.mjs <summary.md> <out.html> [--png <out.png>]
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const [input, output, flag, png] = process.argv.slice(2)
if (!input || !output || (flag && flag !== '--png') || (flag && !png)) {
  console.error('usage: node scripts/render-summary.mjs <summary.md> <out.html> [--png <out.png>]')
  process.exit(2)
}
const body = execFileSync('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'strikethrough', '-e', 'autolink', '-e', 'tagfilter', input], { encoding: 'utf8' })

// GitHub's Markdown look, the parts a summary uses: headings, tables, code, quotes, details.
const css = `
body { margin: 0; background: #fff; }
.markdown-body { box-sizing: border-box; max-width: 1012px; margin: 24px auto; padding: 24px 32px; border: 1px solid #d0d7de; border-radius: 6px;
  font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; word-wrap: break-word; }
.markdown-body h2 { font-size: 1.5em; font-weight: 600; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3; margin: 0 0 16px; }
.markdown-body h3 { font-size: 1.25em; font-weight: 600; margin: 24px 0 16px; }
.markdown-body p, .markdown-body blockquote, .markdown-body ul, .markdown-body ol, .markdown-body table, .markdown-body pre, .markdown-body details { margin: 0 0 16px; }
.markdown-body blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
.markdown-body code { font: 85%/1.45 ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; padding: .2em .4em; background: #818b981f; border-radius: 6px; }
.markdown-body pre { padding: 16px; overflow: auto; background: #f6f8fa; border-radius: 6px; }
.markdown-body pre code { padding: 0; background: transparent; font-size: 85%; white-space: pre; }
.markdown-body table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
.markdown-body th, .markdown-body td { padding: 6px 13px; border: 1px solid #d1d9e0; }
.markdown-body th { font-weight: 600; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body summary { cursor: pointer; }
.markdown-body ul, .markdown-body ol { padding-left: 2em; }
`
fs.writeFileSync(output, `<!doctype html><html><head><meta charset="utf-8"><title>job summary</title><style>${css}</style></head><body><article class="markdown-body">\n${body}</article></body></html>\n`)

if (png) {
  // Open every <details>, so the screenshot shows what a click shows: a copy of the page for that.
  const open = path.join(path.dirname(path.resolve(output)), `${path.basename(output, '.html')}.open.html`)
  fs.writeFileSync(open, fs.readFileSync(output, 'utf8').replace(/<details>/g, '<details open>'))
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-chromium-'))
  try {
    execFileSync('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      `--user-data-dir=${profile}`, `--screenshot=${path.resolve(png)}`, '--window-size=1200,1600', '--hide-scrollbars', `file://${open}`
    ], { stdio: 'ignore', timeout: 60_000 })
  } finally {
    fs.rmSync(profile, { recursive: true, force: true })
    fs.rmSync(open, { force: true })
  }
}

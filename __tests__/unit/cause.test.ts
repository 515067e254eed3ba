// The cause first (issue 17): which log line names the cause, and how the summary, the log
// verdict and the annotation show it and the log tail, all as text (promise 14).
import { describe, expect, test } from 'vitest'
import { causeLine, cleanLogLine, MAX_CAUSE_CHARS } from '../../src/core/cause.js'
import { renderAnnotation, renderLogVerdict, renderSummary } from '../../src/core/report.js'
import { rolledBackReport, safetyAbortReport } from '../helpers/report-fixtures.js'

describe('causeLine', () => {
  test('a Node crash: the error, not its stack frames or the throw site', () => {
    const err = ['/app/server.js:3', '    throw err', '    ^', '', 'Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432', '    at TCPConnectWrap.afterConnect (node:net:1607:16)', '    at errorHandler (/app/error.js:1:1)', 'Node.js v20.20.2']
    expect(causeLine(err, [])).toBe('Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432')
  })

  test('a Python traceback: its last line, not the header or the frames', () => {
    const err = ['Traceback (most recent call last):', '  File "app.py", line 3, in <module>', '    connect()', 'ConnectionRefusedError: [Errno 111] Connection refused']
    expect(causeLine(err, [])).toBe('ConnectionRefusedError: [Errno 111] Connection refused')
  })

  test('the most recent crash of several; the error log before the out log; null when nothing reads like an error', () => {
    expect(causeLine(['Error: old', 'started', 'fatal: new'], ['Error: out'])).toBe('fatal: new')
    expect(causeLine([], ['listening', 'listen EADDRINUSE: address already in use :::3000'])).toBe('listen EADDRINUSE: address already in use :::3000')
    expect(causeLine(['ready'], ['listening on :3000'])).toBeNull()
  })

  test('bounded, without escape sequences, with URL passwords masked', () => {
    expect(causeLine([`Error: ${'x'.repeat(1000)}`], [])!.length).toBe(MAX_CAUSE_CHARS)
    expect(causeLine(['\u001b[31mError\u001b[0m: boom\u0007'], [])).toBe('Error: boom')
    expect(cleanLogLine('Error: connect postgres://app:s3cret@db:5432/x failed')).toBe('Error: connect postgres://app:***@db:5432/x failed')
  })
})

describe('a failing process in the report', () => {
  test('the annotation and the log verdict name what it logged', () => {
    const cause = 'flyer-crawler-api-test logged: Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432'
    expect(renderAnnotation(rolledBackReport())!.message.split('\n')).toContain(cause)
    expect(renderLogVerdict(rolledBackReport()).split('\n')).toContain(`Cause: ${cause}`)
  })

  test("the summary: the cause under the verdict, the log in a collapsed block, the app's lines as text", () => {
    const summary = renderSummary(rolledBackReport())
    expect(summary).toContain('**Cause**: `flyer-crawler-api-test` logged `Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432`')
    expect(summary.indexOf('**Cause**')).toBeLessThan(summary.indexOf('**What to do**'))
    expect(summary).toMatch(/<details><summary>Last 6 log lines of <code>flyer-crawler-api-test<\/code><\/summary>\n\n````text\n--- error: /)
    // The line holding ``` gets a longer fence; nothing outside a fence holds the app's HTML.
    const outside = summary.replace(/^(`{3,})text\n[\s\S]*?^\1$/gm, '')
    expect(outside).not.toContain('<img')
  })

  test('a name with HTML, Markdown and cell breaks stays one cell of text', () => {
    const evil = '<img src=x>|**b**[c](http://e)'
    const r = safetyAbortReport()
    r.violations[0] = { ...r.violations[0]!, detail: evil }
    r.failing = [{ name: `a<b>${evil}`, cause: evil, logs: [{ stream: 'error', file: '/l', lines: [evil] }] }]
    const summary = renderSummary(r)
    const row = summary.split('\n').find((l) => l.startsWith('| `flyer-crawler-worker` | went-offline'))!
    expect(row.split(/(?<!\\)\|/).length).toBe(5)
    expect(row).toContain('&lt;img src=x&gt;\\|\\*\\*b\\*\\*\\[c\\](http://e)')
    expect(summary).toContain('<code>a&lt;b&gt;&lt;img src=x&gt;|**b**[c](http://e)</code>')
    // Markdown is not read inside the <details> line's HTML, nor in code: the rest holds no live HTML or link.
    const markdown = summary.replace(/^(`{3,})text\n[\s\S]*?^\1$/gm, '').replace(/^<details>.*$/gm, '').replace(/`[^`]*`/g, '')
    expect(markdown).not.toMatch(/<img|(?<!\\)\]\(http/)
  })
})

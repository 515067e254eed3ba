// Records only the daemon's owner reads (SECURITY.md; issue 23, point 6): the audit log is 0600
// (an older 0640 one too), an explicit snapshot directory is made 0700, and snapshots and reports
// are new 0600 files that never write through a symlink planted at their name.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { appendAudit, buildAuditRecord } from '../../src/shell/audit.js'
import { writePrivateFile, writeSnapshot } from '../../src/shell/snapshot.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'psd-modes-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
const mode = (p: string) => fs.statSync(p).mode & 0o777
const record = buildAuditRecord({ time: new Date().toISOString(), result: 'deployed', message: 'ok', app: 'web', environmentSuffix: '', strategy: 'reload', dryRun: false, ownNames: [], commands: [], violations: [], metadata: null, report: null })

describe('record modes', () => {
  test('the audit log is created 0600, in a 0700 directory when the action makes it', () => {
    const file = path.join(root, 'audit-new', 'deploys.jsonl')
    appendAudit(file, record)
    expect(mode(file)).toBe(0o600)
    expect(mode(path.dirname(file))).toBe(0o700)
  })
  test('an audit log an older version left 0640 becomes 0600; a symlink at its name is not followed', () => {
    const file = path.join(root, 'old.jsonl')
    fs.writeFileSync(file, '', { mode: 0o640 })
    fs.chmodSync(file, 0o640)
    appendAudit(file, record)
    expect(mode(file)).toBe(0o600)
    const victim = path.join(root, 'victim')
    fs.writeFileSync(victim, 'untouched')
    const link = path.join(root, 'planted.jsonl')
    fs.symlinkSync(victim, link)
    expect(() => appendAudit(link, record)).toThrow()
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched')
  })
  test('snapshots and reports: a new 0600 file, never through a planted symlink, never keeping an old mode', () => {
    const dir = path.join(root, 'snapshots', 'explicit')
    const snap = writeSnapshot(dir, 'tag', { label: 'before' } as Parameters<typeof writeSnapshot>[2])
    expect(mode(snap)).toBe(0o600)
    expect(mode(dir)).toBe(0o700)
    const victim = path.join(root, 'victim2')
    fs.writeFileSync(victim, 'untouched', { mode: 0o644 })
    const report = path.join(dir, 'report.json')
    fs.symlinkSync(victim, report)
    writePrivateFile(report, '{"a":1}\n')
    expect(fs.lstatSync(report).isSymbolicLink()).toBe(false)
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched')
    expect(mode(report)).toBe(0o600)
    fs.chmodSync(report, 0o644)
    writePrivateFile(report, '{"a":2}\n')
    expect(mode(report)).toBe(0o600)
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})

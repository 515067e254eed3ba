// Reading back where the last deploys of an app left its own names (the audit log's ownDirectories).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { previousOwnDirectories } from '../../src/shell/audit.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-directories-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const line = (o: Record<string, unknown>) => JSON.stringify({ schemaVersion: 1, result: 'deployed', metadata: null, ...o })

test('per own name, the newest record of the same app and suffix that kept it; other apps, suffixes, bad lines and unknown fields do not get in the way', () => {
  const file = path.join(dir, 'audit.jsonl')
  fs.writeFileSync(
    file,
    [
      line({ time: 't1', app: 'shop', environmentSuffix: '-test', ownDirectories: { 'shop-api-test': ['/old'], 'shop-worker-test': ['/w'] } }),
      line({ time: 't2', app: 'shop', environmentSuffix: '-test', ownDirectories: { 'shop-api-test': ['/new'] }, metadata: { runUrl: 'https://ci/run/2' }, addedLater: true }),
      line({ time: 't3', app: 'shop', environmentSuffix: '', ownDirectories: { 'shop-api-test': ['/prod'] } }),
      line({ time: 't4', app: 'other', environmentSuffix: '-test', ownDirectories: { 'shop-api-test': ['/theirs'] } }),
      line({ time: 't5', app: 'shop', environmentSuffix: '-test' }),
      '{"ownDirectories": not json',
      ''
    ].join('\n')
  )
  expect(previousOwnDirectories(file, 'shop', '-test')).toEqual({
    'shop-api-test': { directories: ['/new'], time: 't2', runUrl: 'https://ci/run/2' },
    'shop-worker-test': { directories: ['/w'], time: 't1', runUrl: null }
  })
  expect(previousOwnDirectories(path.join(dir, 'missing.jsonl'), 'shop', '-test')).toEqual({})
  expect(previousOwnDirectories(null, 'shop', '-test')).toEqual({})
})

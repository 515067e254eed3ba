// The release made complete on disk (shell/stage.ts): a staged upload renamed in whole, an
// earlier never-live copy replaced; shared paths seeded, replaced, created, or refused.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { discardStaged, installStaged, linkShared, realPathOfMaybeMissing } from '../../src/shell/stage.js'

const tmp = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-stage-unit-')))

describe('a staged upload made release-dir', () => {
  test('renamed in with its parent made; an existing copy replaced whole; the staged name gone', () => {
    const root = tmp()
    const staged = path.join(root, 'staging', 'up-1')
    fs.mkdirSync(staged, { recursive: true })
    fs.writeFileSync(path.join(staged, 'server.js'), 'new')
    const release = path.join(root, 'app', 'releases', 'v2')
    expect(installStaged(staged, release)).toEqual({ replaced: false, copied: false })
    expect(fs.readFileSync(path.join(release, 'server.js'), 'utf8')).toBe('new')
    expect(fs.existsSync(staged)).toBe(false)
    fs.mkdirSync(staged)
    fs.writeFileSync(path.join(staged, 'other.js'), 'newer')
    expect(installStaged(staged, release).replaced).toBe(true)
    expect(fs.readdirSync(release)).toEqual(['other.js'])
    expect(fs.readdirSync(path.dirname(release))).toEqual(['v2'])
  })
  test('discarding removes a staged directory, never a file; a missing one is fine', () => {
    const root = tmp()
    fs.mkdirSync(path.join(root, 'd'))
    fs.writeFileSync(path.join(root, 'f'), '')
    expect(discardStaged(path.join(root, 'd'))).toBeNull()
    expect(discardStaged(path.join(root, 'f'))).toMatch(/not a directory/)
    expect(fs.existsSync(path.join(root, 'f'))).toBe(true)
    expect(discardStaged(path.join(root, 'gone'))).toBeNull()
    expect(realPathOfMaybeMissing(path.join(root, 'x', 'y'))).toBe(path.join(root, 'x', 'y'))
  })
})

describe('shared paths linked into shared-dir', () => {
  test('seeded on a first deploy, replaced after; a directory created; a file missing in both refused with the fix', () => {
    const root = tmp()
    const shared = path.join(root, 'shared')
    const v1 = path.join(root, 'releases', 'v1')
    const v2 = path.join(root, 'releases', 'v2')
    for (const r of [v1, v2]) {
      fs.mkdirSync(r, { recursive: true })
      fs.writeFileSync(path.join(r, '.env'), path.basename(r))
    }
    expect(linkShared(v1, shared, { rel: '.env', dir: false }).action).toBe('seeded')
    expect(linkShared(v1, shared, { rel: 'uploads', dir: true }).action).toBe('created')
    expect(linkShared(v2, shared, { rel: '.env', dir: false }).action).toBe('replaced')
    expect(fs.readFileSync(path.join(v2, '.env'), 'utf8')).toBe('v1')
    expect(fs.readlinkSync(path.join(v2, '.env'))).toBe(path.join(shared, '.env'))
    expect(() => linkShared(v2, shared, { rel: 'config/secret.json', dir: false })).toThrow(/config\/secret\.json is in neither the release nor shared-dir: create .*shared\/config\/secret\.json on the host/)
  })
  test('a path that leaves the release through a symlinked parent is refused', () => {
    const root = tmp()
    const v1 = path.join(root, 'v1')
    fs.mkdirSync(v1)
    fs.symlinkSync(root, path.join(v1, 'up'))
    expect(() => linkShared(v1, path.join(root, 'shared'), { rel: 'up/.env', dir: false })).toThrow(/leads out of the release through a symlink/)
    expect(() => linkShared(v1, path.join(root, 'shared'), { rel: 'up/new/.env', dir: false })).toThrow(/leads out of the release/)
    expect(fs.existsSync(path.join(root, 'new'))).toBe(false)
  })
})

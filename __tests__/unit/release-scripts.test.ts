// The release checks (scripts/check-release.mjs, scripts/changelog-section.mjs) on made-up
// files, and on this repository's: the version every run records must stay in step with
// package.json, and the bundle must carry it in the form the release check reads.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { changelogSection, changelogSections } from '../../scripts/changelog-section.mjs'
import { movesMajor, parseTag, releaseProblems, versionConstants } from '../../scripts/check-release.mjs'
import { ACTION_VERSION } from '../../src/shell/version.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8')

const CHANGELOG = `# Changelog

Intro text.

## [Unreleased]

### Added

- Something in flight.

## [1.2.0] - 2026-12-03

### Added

- Fleets.

### Fixed

- A lock left behind.

## [1.1.0] - 2026-11-20

- One line.

[Unreleased]: https://example.com/compare/v1.2.0...HEAD
[1.2.0]: https://example.com/releases/tag/v1.2.0
[1.1.0]: https://example.com/releases/tag/v1.1.0
`

describe('changelogSection', () => {
  test('the body of a dated section, up to the next version, without its heading', () => {
    expect(changelogSection(CHANGELOG, 'v1.2.0')).toBe('### Added\n\n- Fleets.\n\n### Fixed\n\n- A lock left behind.')
    expect(changelogSection(CHANGELOG, '1.2.0')).toBe(changelogSection(CHANGELOG, 'v1.2.0'))
  })

  test('the last section stops before the footer of link definitions', () => {
    expect(changelogSection(CHANGELOG, 'v1.1.0')).toBe('- One line.')
  })

  test('sections in file order, Unreleased undated', () => {
    expect(changelogSections(CHANGELOG).map((s) => [s.version, s.date])).toEqual([
      ['Unreleased', null],
      ['1.2.0', '2026-12-03'],
      ['1.1.0', '2026-11-20']
    ])
  })

  test('a missing, undated or empty section is refused with what to write', () => {
    expect(() => changelogSection(CHANGELOG, 'v2.0.0')).toThrow(/no section for 2\.0\.0: add "## \[2\.0\.0\] - YYYY-MM-DD"/)
    expect(() => changelogSection('## [1.0.0] - Unreleased\n\n- x\n', 'v1.0.0')).toThrow(/not dated \("Unreleased"\)/)
    expect(() => changelogSection('## [1.0.0]\n- x\n', 'v1.0.0')).toThrow(/not dated/)
    expect(() => changelogSection('## [1.0.0] - 2026-12-03\n\n## [0.9.0] - 2026-01-01\n- x\n', 'v1.0.0')).toThrow(/is empty/)
  })

  test('CRLF line ends read the same', () => {
    expect(changelogSection(CHANGELOG.replace(/\n/g, '\r\n'), 'v1.2.0')).toBe(changelogSection(CHANGELOG, 'v1.2.0'))
  })

  test('the CLI prints the section; a missing one exits 1 with the reason on stderr', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'changelog-'))
    try {
      const file = path.join(dir, 'CHANGELOG.md')
      fs.writeFileSync(file, CHANGELOG)
      const script = path.join(ROOT, 'scripts', 'changelog-section.mjs')
      expect(execFileSync(process.execPath, [script, 'v1.1.0', file], { encoding: 'utf8' })).toBe('- One line.\n')
      const missing = spawnSync(process.execPath, [script, 'v3.0.0', file], { encoding: 'utf8' })
      expect(missing.status).toBe(1)
      expect(missing.stdout).toBe('')
      expect(missing.stderr).toMatch(/no section for 3\.0\.0/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('parseTag and movesMajor', () => {
  test('release and prerelease tags; anything else is refused', () => {
    expect(parseTag('v1.2.3')).toEqual({ version: '1.2.3', numbers: [1, 2, 3], major: 'v1', prerelease: false })
    expect(parseTag('v2.0.0-rc.1')).toMatchObject({ version: '2.0.0-rc.1', major: 'v2', prerelease: true })
    for (const bad of ['1.2.3', 'v1.2', 'v1.2.3.4', 'v01.2.3', 'v1.2.3-', 'v1', 'release-1.2.3', 'v1.2.3 ']) {
      expect(() => parseTag(bad), bad).toThrow(/is not a release tag/)
    }
  })

  test('the major tag moves to the newest stable release of its major only', () => {
    const tags = ['v1', 'v1.0.0', 'v1.0.1', 'v1.1.0', 'v2.0.0', 'v1.2.0-rc.1', 'nightly']
    expect(movesMajor('v1.1.1', tags)).toBe(true)
    expect(movesMajor('v1.2.0', tags)).toBe(true)
    expect(movesMajor('v1.0.2', tags)).toBe(false) // a patch of an older minor does not pull v1 back
    expect(movesMajor('v1.3.0-rc.1', tags)).toBe(false)
    expect(movesMajor('v1.10.0', [...tags, 'v1.9.0'])).toBe(true) // numeric, not text, order
    expect(movesMajor('v1.1.0', tags)).toBe(true) // a re-run of the newest release
    expect(movesMajor('v3.0.0', tags)).toBe(true)
  })
})

describe('releaseProblems', () => {
  const good = {
    tag: 'v1.2.0',
    packageVersion: '1.2.0',
    source: "export const ACTION_VERSION = '1.2.0'\n",
    bundles: { 'dist/main/index.js': "var x;\nconst ACTION_VERSION = '1.2.0';\n", 'dist/post/index.js': 'no version here' },
    changelog: CHANGELOG
  }

  test('none when the tag, package.json, the source, the bundles and the CHANGELOG agree', () => {
    expect(releaseProblems(good)).toEqual([])
  })

  test('each disagreement is named, with the fix', () => {
    expect(releaseProblems({ ...good, packageVersion: '1.1.0' })).toEqual([expect.stringMatching(/^package\.json has version 1\.1\.0, the tag v1\.2\.0: set "version": "1\.2\.0"/)])
    expect(releaseProblems({ ...good, source: "export const ACTION_VERSION = '1.1.0'" })).toEqual([expect.stringMatching(/^src\/shell\/version\.ts sets ACTION_VERSION to 1\.1\.0/)])
    expect(releaseProblems({ ...good, bundles: { ...good.bundles, 'dist/main/index.js': "const ACTION_VERSION = '1.1.0';" } })).toEqual([
      expect.stringMatching(/^dist\/main\/index\.js reports version 1\.1\.0, the tag v1\.2\.0: run npm run bundle/)
    ])
    expect(releaseProblems({ ...good, bundles: { ...good.bundles, 'dist/post/index.js': "const ACTION_VERSION = '1.0.0';" } })).toEqual([expect.stringMatching(/^dist\/post\/index\.js reports version 1\.0\.0/)])
    expect(releaseProblems({ ...good, tag: 'v1.3.0', packageVersion: '1.3.0', source: "ACTION_VERSION = '1.3.0'", bundles: { 'dist/main/index.js': "ACTION_VERSION = '1.3.0'" } })).toEqual([
      expect.stringMatching(/^CHANGELOG\.md has no section for 1\.3\.0/)
    ])
  })

  test('a bundle that no longer shows its version, or none at all, is a problem, not a pass', () => {
    expect(releaseProblems({ ...good, bundles: { 'dist/main/index.js': 'const e="1.2.0";' } })).toEqual([expect.stringMatching(/carries no ACTION_VERSION/)])
    expect(releaseProblems({ ...good, bundles: {} })).toEqual([expect.stringMatching(/dist\/main\/index\.js is missing/)])
  })

  test('a tag that is not a release tag stops there', () => {
    expect(releaseProblems({ ...good, tag: 'v1.2' })).toEqual([expect.stringMatching(/is not a release tag/)])
  })
})

describe('this repository', () => {
  test('ACTION_VERSION (metadata.actionVersion of every run) is package.json\'s version', () => {
    expect(ACTION_VERSION).toBe(JSON.parse(read('package.json')).version)
    expect(versionConstants(read('src/shell/version.ts'))).toEqual([ACTION_VERSION])
  })

  test('the committed main bundle carries it where the release check reads it', () => {
    expect(new Set(versionConstants(read('dist/main/index.js')))).toEqual(new Set([ACTION_VERSION]))
  })

  test('CHANGELOG.md has an Unreleased section on top, then released versions, newest first, each with a link', () => {
    const changelog = read('CHANGELOG.md')
    const sections = changelogSections(changelog)
    expect(sections[0]?.version).toBe('Unreleased')
    const versions = sections.slice(1).map((s) => parseTag(`v${s.version}`).numbers)
    expect(versions.length).toBeGreaterThan(0)
    expect([...versions].sort((a, b) => b[0] - a[0] || b[1] - a[1] || b[2] - a[2])).toEqual(versions)
    for (const s of sections) expect(changelog, `link for [${s.version}]`).toMatch(new RegExp(`^\\[${s.version.replace(/\./g, '\\.')}\\]: https://`, 'm'))
  })
})

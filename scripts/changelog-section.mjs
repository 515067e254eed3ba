#!/usr/bin/env node
// Prints the CHANGELOG.md section of one version (its body, without the heading): the notes of
// that version's GitHub release. `node scripts/changelog-section.mjs v1.2.3 [CHANGELOG.md]`.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const HEADING = /^## \[([^\]]+)\](?:\s+-\s+(.*?))?\s*$/
// The footer of link definitions (`[1.0.0]: https://…`) ends the last section.
const LINK_DEFINITION = /^\[[^\]]+\]:\s/

/** Every `## [version] - date` section, in file order, with its body lines (footer links dropped). */
export function changelogSections(changelog) {
  const sections = []
  let current = null
  for (const line of changelog.replace(/\r\n/g, '\n').split('\n')) {
    const heading = line.match(HEADING)
    if (heading) {
      current = { version: heading[1], date: heading[2] ?? null, lines: [] }
      sections.push(current)
    } else if (/^#{1,2} /.test(line) || LINK_DEFINITION.test(line)) {
      current = null
    } else if (current) {
      current.lines.push(line)
    }
  }
  return sections.map(({ version, date, lines }) => ({ version, date, body: lines.join('\n').trim() }))
}

/**
 * The body of the dated section of `version` ("1.2.3" or "v1.2.3"). Throws an Error that says
 * what to write when the section is missing, undated or empty.
 */
export function changelogSection(changelog, version) {
  const wanted = version.replace(/^v/, '')
  const section = changelogSections(changelog).find((s) => s.version === wanted)
  if (!section) {
    throw new Error(`CHANGELOG.md has no section for ${wanted}: add "## [${wanted}] - YYYY-MM-DD" (move the Unreleased entries into it).`)
  }
  if (!section.date || !/^\d{4}-\d{2}-\d{2}$/.test(section.date)) {
    throw new Error(`CHANGELOG.md section ${wanted} is not dated ("${section.date ?? ''}"): write the release date, "## [${wanted}] - YYYY-MM-DD".`)
  }
  if (section.body === '') throw new Error(`CHANGELOG.md section ${wanted} is empty: say what the release changes.`)
  return section.body
}

function main(argv) {
  const [version, file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'CHANGELOG.md')] = argv
  if (!version) {
    console.error('usage: node scripts/changelog-section.mjs <version or tag> [CHANGELOG.md]')
    return 2
  }
  try {
    process.stdout.write(changelogSection(fs.readFileSync(file, 'utf8'), version) + '\n')
    return 0
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err))
    return 1
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2))

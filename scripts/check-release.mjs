#!/usr/bin/env node
// Before a release: the tag, package.json, src/shell/version.ts (ACTION_VERSION, which every run
// records as metadata.actionVersion), the committed dist/ bundles and CHANGELOG.md must all name
// the same version. `node scripts/check-release.mjs v1.2.3`. Prints each mismatch, exits 1 on
// any; under GitHub Actions writes version, major, prerelease and move-major to GITHUB_OUTPUT.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { changelogSection } from './changelog-section.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/
// How the constant reads in src/shell/version.ts and, unminified, in ncc's bundle.
const VERSION_CONSTANT = /\bACTION_VERSION\s*=\s*(['"`])([^'"`\n]*)\1/g
// The bundle whose runs write the version into every report and audit record.
const MAIN_BUNDLE = 'dist/main/index.js'

/** `v1.2.3` or `v1.2.3-rc.1` → its parts; throws for anything else. */
export function parseTag(tag) {
  const m = TAG.exec(tag)
  if (!m) throw new Error(`"${tag}" is not a release tag: write v<major>.<minor>.<patch>, e.g. v1.2.3 (or v1.2.3-rc.1 for a prerelease).`)
  return { version: tag.slice(1), numbers: [Number(m[1]), Number(m[2]), Number(m[3])], major: `v${m[1]}`, prerelease: m[4] !== undefined }
}

/** Every value ACTION_VERSION is set to in a source file or bundle. */
export function versionConstants(text) {
  return [...text.matchAll(VERSION_CONSTANT)].map((m) => m[2])
}

/**
 * Whether the major tag (v1) should move to `tag`: a stable release that no other stable tag of
 * the same major outranks (a patch of an older minor does not pull v1 back).
 */
export function movesMajor(tag, tags) {
  const release = parseTag(tag)
  if (release.prerelease) return false
  const newer = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
  return tags
    .filter((t) => TAG.test(t) && t !== tag)
    .map(parseTag)
    .every((t) => t.prerelease || t.major !== release.major || newer(t.numbers, release.numbers) < 0)
}

/**
 * Every mismatch between the tag and the files, as sentences that say how to fix it.
 * `bundles` maps a path under dist/ to its text; `source` is src/shell/version.ts.
 */
export function releaseProblems({ tag, packageVersion, source, bundles, changelog }) {
  let release
  try {
    release = parseTag(tag)
  } catch (err) {
    return [err.message]
  }
  const { version } = release
  const problems = []
  if (packageVersion !== version) problems.push(`package.json has version ${packageVersion}, the tag ${tag}: set "version": "${version}" (npm version ${version} --no-git-tag-version) and tag that commit.`)
  const inSource = versionConstants(source)
  if (inSource.length !== 1 || inSource[0] !== version) {
    problems.push(`src/shell/version.ts sets ACTION_VERSION to ${inSource.join(', ') || 'nothing'}, the tag ${tag}: write export const ACTION_VERSION = '${version}'.`)
  }
  if (!(MAIN_BUNDLE in bundles)) problems.push(`${MAIN_BUNDLE} is missing: run npm run bundle and commit dist/.`)
  for (const [file, text] of Object.entries(bundles)) {
    const found = versionConstants(text)
    if (file === MAIN_BUNDLE && found.length === 0) problems.push(`${file} carries no ACTION_VERSION: the bundle no longer shows its version as the release check reads it (scripts/check-release.mjs).`)
    const wrong = [...new Set(found.filter((v) => v !== version))]
    if (wrong.length > 0) problems.push(`${file} reports version ${wrong.join(', ')}, the tag ${tag}: run npm run bundle and commit dist/.`)
  }
  try {
    changelogSection(changelog, version)
  } catch (err) {
    problems.push(err.message)
  }
  return problems
}

/** The committed bundles: dist/<entry>/index.js. */
function readBundles(root) {
  const dist = path.join(root, 'dist')
  const bundles = {}
  for (const entry of fs.existsSync(dist) ? fs.readdirSync(dist) : []) {
    const file = path.join(dist, entry, 'index.js')
    if (fs.existsSync(file)) bundles[`dist/${entry}/index.js`] = fs.readFileSync(file, 'utf8')
  }
  return bundles
}

function gitTags(root) {
  try {
    return execFileSync('git', ['tag', '--list', 'v*'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean)
  } catch {
    return []
  }
}

function main(argv, env) {
  const [tag] = argv
  if (!tag) {
    console.error('usage: node scripts/check-release.mjs <tag, e.g. v1.2.3>')
    return 2
  }
  const read = (rel) => (fs.existsSync(path.join(ROOT, rel)) ? fs.readFileSync(path.join(ROOT, rel), 'utf8') : '')
  const problems = releaseProblems({
    tag,
    packageVersion: JSON.parse(read('package.json')).version,
    source: read('src/shell/version.ts'),
    bundles: readBundles(ROOT),
    changelog: read('CHANGELOG.md')
  })
  // Annotations on GitHub: the data part escaped as @actions/core does (a tag may hold any text).
  const escape = (text) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
  const say = (kind, text) => console.log(env.GITHUB_ACTIONS === 'true' ? `::${kind} title=Release check::${escape(text)}` : text)
  if (problems.length > 0) {
    for (const p of problems) say('error', p)
    return 1
  }
  const release = parseTag(tag)
  const move = movesMajor(tag, gitTags(ROOT))
  console.log(`${tag}: package.json, ACTION_VERSION, dist/ and CHANGELOG.md all say ${release.version}.`)
  if (!move) say('notice', release.prerelease ? `${tag} is a prerelease: ${release.major} stays where it is.` : `A newer ${release.major}.x.y release exists: ${release.major} stays where it is.`)
  if (env.GITHUB_OUTPUT) {
    fs.appendFileSync(env.GITHUB_OUTPUT, `version=${release.version}\nmajor=${release.major}\nprerelease=${release.prerelease}\nmove-major=${move}\n`)
  }
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2), process.env)

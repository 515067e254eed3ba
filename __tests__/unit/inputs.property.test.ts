// The input parser over arbitrary values for every input of action.yml: it returns the
// parsed inputs or throws an InputError (a UserError, shown without a stack); never
// anything else.
import fc from 'fast-check'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { UserError } from '../../src/core/errors.js'
import { envInputs, InputError, parseInputs } from '../../src/shell/inputs.js'
import { ReleaseError, switchLink } from '../../src/shell/release.js'
import { ensureRunDir, RunDirError } from '../../src/shell/runs.js'
import { anyInputs, INPUT_NAMES, ROOT_TOKEN } from '../helpers/input-arbitraries.js'
import { inputVar } from '../helpers/run-action.js'

let root: string

beforeAll(() => {
  // The parser only looks at the disk (stat, realpath): the paths it sees exist here or do not.
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-property-'))
  fs.mkdirSync(path.join(root, 'releases', 'r1'), { recursive: true })
  fs.mkdirSync(path.join(root, 'releases', 'r2'))
  fs.symlinkSync(path.join(root, 'releases', 'r1'), path.join(root, 'current'))
  fs.writeFileSync(path.join(root, 'a-file.txt'), '')
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function envOf(inputs: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GITHUB_WORKSPACE: root, HOME: root, PATH: process.env.PATH }
  for (const [name, value] of Object.entries(inputs)) if (value !== undefined) env[inputVar(name)] = value.split(ROOT_TOKEN).join(root)
  return env
}

describe('parseInputs over arbitrary values', () => {
  test('every input of action.yml is generated', () => {
    expect(INPUT_NAMES).toContain('app')
    expect(INPUT_NAMES.length).toBeGreaterThan(20)
  })

  test('returns inputs or throws an InputError that says which input and why', () => {
    fc.assert(
      fc.property(anyInputs, (inputs) => {
        const env = envOf(inputs)
        let parsed: ReturnType<typeof parseInputs>
        try {
          parsed = parseInputs(env, envInputs(env))
        } catch (err) {
          if (!(err instanceof InputError)) throw err
          expect(err).toBeInstanceOf(UserError)
          expect(err.message).toMatch(/^Invalid inputs:\n- \S/)
          return
        }
        // Parsed: absolute paths only, numbers are numbers.
        expect(path.isAbsolute(parsed.workingDirectory) && path.isAbsolute(parsed.pm2Home) && path.isAbsolute(parsed.snapshotDir)).toBe(true)
        for (const n of [parsed.stableSeconds, parsed.timeoutSeconds, parsed.lockTimeoutSeconds, parsed.logLines, parsed.keepReleases]) expect(Number.isFinite(n)).toBe(true)
        expect(parsed.stableSeconds).toBeLessThan(parsed.timeoutSeconds)
        expect(parsed.app).not.toBe('')
        // An accepted health URL is one fetch can ask: refused now rather than failing after the deploy.
        for (const u of parsed.healthUrls) expect(['http:', 'https:']).toContain(new URL(u).protocol)
      }),
      { numRuns: 2000 }
    )
  })
})

describe('counterexamples the fuzzing found', () => {
  // Accepted by the old /^https?:\/\/\S+$/ check, then unusable by fetch: the deploy changed own processes and failed at timeout-seconds.
  test.each(['http://[::1', 'http://%', 'http://x:99999/'])('health-url %j is refused before any change, naming the URL', (url) => {
    const env = envOf({ app: 'flyer-crawler', whitelist: 'flyer-crawler-api', 'health-url': `http://localhost/ok\n${url}` })
    expect(() => parseInputs(env, envInputs(env))).toThrow(InputError)
    expect(() => parseInputs(env, envInputs(env))).toThrow(`health-url: each health-url must be an http:// or https:// URL: ${JSON.stringify(url)} is not: it is not a valid URL`)
  })

  test('a snapshot-dir with a name too long is refused, saying why (it passed, then mkdir threw ENAMETOOLONG with a stack)', () => {
    const env = envOf({ app: 'flyer-crawler', whitelist: 'flyer-crawler-api', 'snapshot-dir': 'x'.repeat(5000) })
    expect(() => parseInputs(env, envInputs(env))).toThrow(/snapshot-dir: .*x…x+ \(\d+ characters\) cannot be used \(ENAMETOOLONG: a name in it is longer than 255 bytes/)
  })

  test('a run directory the disk refuses is a user error with the fix, not an unexpected one', () => {
    const tooLong = path.join(root, 'y'.repeat(300))
    expect(() => ensureRunDir({ snapshotDir: tooLong, isDefault: false, pm2Home: root }, new Date(), 'tag')).toThrow(RunDirError)
    expect(() => ensureRunDir({ snapshotDir: tooLong, isDefault: false, pm2Home: root }, new Date(), 'tag')).toThrow(/ENAMETOOLONG.*Point `snapshot-dir` at a directory this job can write/)
    const noHome = path.join(root, 'no-such-home')
    expect(() => ensureRunDir({ snapshotDir: path.join(noHome, 'pm2-safe-deploy', 'runs'), isDefault: true, pm2Home: noHome }, new Date(), 'tag')).toThrow(RunDirError)
  })

  test.each([5000, 230])('a current-link name of %i bytes is refused before any change (the switch threw ENAMETOOLONG with a stack)', (n) => {
    const env = envOf({ app: 'flyer-crawler', ecosystem: 'ecosystem.json', 'current-link': 'x'.repeat(n), 'release-dir': 'releases/r2' })
    expect(() => parseInputs(env, envInputs(env))).toThrow(/current-link: the name x+(…x+ \(\d+ characters\))? is too long: .* at most 215 bytes/)
  })

  test('a link switch the disk refuses is a ReleaseError saying why, even when the temporary link cannot be removed either', () => {
    expect(() => switchLink(path.join(root, 'l'.repeat(250)), path.join(root, 'releases', 'r2'))).toThrow(ReleaseError)
    expect(() => switchLink(path.join(root, 'l'.repeat(250)), path.join(root, 'releases', 'r2'))).toThrow(/could not point .* ENAMETOOLONG/)
  })
})


// `require-app-prefix` and the renaming options, without a daemon: `false` drops only the
// rule that own names start with `app`; the suffix rule and every other refusal still hold.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { deriveOwnNames, nameProblem, OwnershipError } from '../../src/core/ownership.js'
import { renamingProblem } from '../../src/core/renaming.js'
import { InputError, parseInputs } from '../../src/shell/inputs.js'

const AGENTS = ['orchestrator', 'agent-scaffold', 'agent-validation', 'agent-e2e', 'agent-integration', 'agent-deployment']

describe('require-app-prefix input', () => {
  test('defaults to true, parses the usual spellings of false, refuses others', () => {
    expect(parseInputs({ HOME: '/h', INPUT_APP: 'a' }).requireAppPrefix).toBe(true)
    expect(parseInputs({ HOME: '/h', INPUT_APP: 'a', 'INPUT_REQUIRE-APP-PREFIX': '' }).requireAppPrefix).toBe(true)
    for (const v of ['false', 'False', 'no', '0', 'off']) {
      expect(parseInputs({ HOME: '/h', INPUT_APP: 'a', 'INPUT_REQUIRE-APP-PREFIX': v }).requireAppPrefix).toBe(false)
    }
    expect(() => parseInputs({ HOME: '/h', INPUT_APP: 'a', 'INPUT_REQUIRE-APP-PREFIX': 'maybe' })).toThrowError(InputError)
    expect(() => parseInputs({ HOME: '/h', INPUT_APP: 'a', 'INPUT_REQUIRE-APP-PREFIX': 'maybe' })).toThrowError(/require-app-prefix must be true or false/)
  })
})

describe('ownership with require-app-prefix', () => {
  test('the refusal of a missing prefix names `require-app-prefix: false` as the fix, or renaming', () => {
    const err = (() => {
      try {
        deriveOwnNames({ app: 'agentic-sdlc', suffix: '', whitelist: [], ecosystemAppNames: AGENTS })
      } catch (e) {
        return e as Error
      }
      return null
    })()
    expect(err).toBeInstanceOf(OwnershipError)
    expect(err!.message).toMatch(/"orchestrator" does not start with the app name "agentic-sdlc"/)
    expect(err!.message).toMatch(/set `require-app-prefix: false`/)
    expect(err!.message).toMatch(/or rename the process/)
  })

  test('with false, names that share no prefix are own names, in order', () => {
    expect(deriveOwnNames({ app: 'agentic-sdlc', suffix: '', whitelist: [], ecosystemAppNames: AGENTS, requireAppPrefix: false })).toEqual(AGENTS)
    expect(deriveOwnNames({ app: 'backend', suffix: '-test', whitelist: ['form-service', 'email-service'], requireAppPrefix: false })).toEqual([
      'form-service-test',
      'email-service-test'
    ])
  })

  test('with false, the suffix rule still holds, and the message does not ask for the prefix', () => {
    expect(() => deriveOwnNames({ app: 'backend', suffix: '-test', whitelist: [], ecosystemAppNames: ['form-service'], requireAppPrefix: false })).toThrowError(
      /"form-service" does not end with the environment suffix "-test": every own process must be named "…-test"/
    )
    expect(() => deriveOwnNames({ app: 'backend', suffix: '-test', whitelist: ['form-service-test'], requireAppPrefix: false })).toThrowError(/drop the suffix/)
  })

  test.each([
    [['all'], '', /every process/],
    [['1'], '', /numeric/],
    [['0x1'], '', /numeric/],
    [['/api/'], '', /contains "\/"/],
    [['form service'], '', /white space/],
    [['-form'], '', /starts with "-"/],
    [['services.json'], '', /config file/],
    [['apps.config.js'], '', /config file/],
    [['form', 'form'], '', /listed twice/],
    [[''], '', /empty/]
  ])('with false, %j is still refused', (names, suffix, message) => {
    expect(() => deriveOwnNames({ app: 'backend', suffix, whitelist: [], ecosystemAppNames: names, requireAppPrefix: false })).toThrowError(message)
  })
})

// Names built from PM2-significant pieces: keywords, digits, slashes, blanks, config extensions.
const piece = fc.constantFrom('all', 'api', 'agent', 'orchestrator', '-', '_', '.', '1', '0x', ' ', '/', '.json', '.config.js', '.yml', 'e2e', 'form', '-test')
const anyName = fc.array(piece, { minLength: 0, maxLength: 5 }).map((p) => p.join(''))
const anyApp = fc.constantFrom('flyer-crawler', 'agentic-sdlc', 'form', 'api')
const anySuffix = fc.constantFrom('', '-test', '-staging')

describe('ownership with require-app-prefix (properties)', () => {
  test('false accepts exactly what true accepts, plus names that only lack the app prefix', () => {
    fc.assert(
      fc.property(anyName, anyApp, anySuffix, (name, app, suffix) => {
        const strict = nameProblem(name, app, suffix, true)
        const loose = nameProblem(name, app, suffix, false)
        // Loosening never refuses a name that the strict rule accepts.
        if (strict === null) expect(loose).toBeNull()
        // What the loose rule accepts differs from the strict one only by the prefix.
        if (loose === null && strict !== null) {
          expect(name.startsWith(app)).toBe(false)
          expect(strict).toMatch(/require-app-prefix: false/)
        }
        // The rules other than the prefix hold either way.
        if (loose === null) {
          expect(name.endsWith(suffix)).toBe(true)
          expect(name).not.toBe('all')
          expect(name).not.toMatch(/[\s/]/)
          expect(name.startsWith('-')).toBe(false)
          expect(Number.isNaN(Number(name))).toBe(true)
          expect(/\.(json|ya?ml)|\.config\.c?js/.test(name)).toBe(false)
        }
      }),
      { numRuns: 3000 }
    )
  })

  test('deriveOwnNames with false returns whitelist + suffix (or the file names) or refuses with an OwnershipError', () => {
    fc.assert(
      fc.property(fc.array(anyName, { maxLength: 4 }), fc.array(anyName, { maxLength: 4 }), anySuffix, (whitelist, fileNames, suffix) => {
        let names: string[]
        try {
          names = deriveOwnNames({ app: 'agentic-sdlc', suffix, whitelist, ecosystemAppNames: fileNames, requireAppPrefix: false })
        } catch (err) {
          expect(err).toBeInstanceOf(OwnershipError)
          expect((err as Error).message).not.toMatch(/does not start with the app/)
          return
        }
        expect(names).toEqual(whitelist.length > 0 ? whitelist.map((w) => w + suffix) : fileNames)
        expect(new Set(names).size).toBe(names.length)
        for (const n of names) expect(nameProblem(n, 'agentic-sdlc', suffix, false)).toBeNull()
      }),
      { numRuns: 2000 }
    )
  })
})

describe('renaming options', () => {
  const app = (o: Partial<Parameters<typeof renamingProblem>[0]> = {}) => ({ name: 'api', appendEnvToName: false, namePrefix: null, ...o })

  test('append_env_to_name is refused with an ecosystem-env, which is when PM2 renames', () => {
    const p = renamingProblem(app({ appendEnvToName: true }), 'production')
    expect(p).toMatch(/as "api-production", not the own name "api"/)
    expect(p).toMatch(/remove `append_env_to_name`/)
    expect(p).toMatch(/name: 'api-production'/)
  })

  test('append_env_to_name without an ecosystem-env keeps the name, so it deploys', () => {
    expect(renamingProblem(app({ appendEnvToName: true }), null)).toBeNull()
  })

  test('name_prefix is refused with or without an env', () => {
    for (const env of [null, 'production']) {
      const p = renamingProblem(app({ namePrefix: 'team' }), env)
      expect(p).toMatch(/"team:api"/)
      expect(p).toMatch(/remove `name_prefix`/)
    }
  })

  test('an app with neither is fine', () => expect(renamingProblem(app(), 'production')).toBeNull())
})

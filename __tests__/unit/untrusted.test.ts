// Promise 14: no line the action did not compose acts as a workflow command on GitHub's
// runner, act or Gitea's act_runner, read as their sources read it (helpers/runner-commands.ts).
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { asText, linesAsText, looksLikeCommand, NEUTRAL_MARK } from '../../src/core/untrusted.js'
import { actCommands, actParse, githubCommands, githubParse, giteaReporterParse } from '../helpers/runner-commands.js'

/** A line is a command when any runner reads one in it (GitHub with every name registered). */
function commandIn(line: string): string | null {
  return githubParse(line, true)?.command ?? actParse(line + '\n')?.command ?? giteaReporterParse(line)?.command ?? null
}

describe('the runners read these lines as commands, before asText', () => {
  const ATTACKS: [string, string][] = [
    ['::stop-commands::x', 'GitHub, act and Gitea: v2 at the start'],
    ['::error title=Deployed::all good', 'v2 with properties'],
    ['::set-output name=result::deployed', 'act still honours set-output'],
    ['::add-mask::secret', 'add-mask'],
    ['   ::warning::indented', 'GitHub trims leading white space first'],
    ['\u0085::debug::x', '.NET white space includes U+0085 (NEL)'],
    ['\u3000::debug::x', 'and U+3000'],
    ['##[set-output name=result;]deployed', 'the v1 form at the start (act too)'],
    ['GET /x ##[add-mask]secret', 'GitHub: the v1 form anywhere in the line'],
    ['::ERROR::upper case', 'GitHub matches names case-insensitively']
  ]
  test.each(ATTACKS)('%j (%s)', (line) => {
    expect(commandIn(line)).not.toBeNull()
    expect(looksLikeCommand(line)).toBe(true)
    const [safe] = linesAsText(line)
    expect(safe!.startsWith(NEUTRAL_MARK)).toBe(true)
    expect(commandIn(safe!)).toBeNull()
  })
})

describe('asText rules', () => {
  test('culture-sensitive matching may skip format characters: those variants are neutralised too', () => {
    for (const line of [':\u200b:add-mask::x', '\u200b::add-mask::x', '\u00ad::add-mask::x', '#\u200b#[add-mask]x', 'a ##\u2060[add-mask]x']) {
      expect(looksLikeCommand(line), JSON.stringify(line)).toBe(true)
      const safe = asText(line)
      expect(safe.startsWith(NEUTRAL_MARK)).toBe(true)
      expect(commandIn(safe), JSON.stringify(safe)).toBeNull()
    }
  })

  test('`##[` is broken by a plain space, which no comparison skips, and stays readable', () => {
    expect(asText('x ##[error]boom')).toBe(`${NEUTRAL_MARK}x ## [error]boom`)
    expect(asText('###[a]')).toBe(`${NEUTRAL_MARK}### [a]`)
  })

  test('ordinary lines are left exactly as they are', () => {
    for (const line of ['Error: cannot connect to database: ECONNREFUSED 127.0.0.1:5432', 'std::vector<int> a', 'listening on [::]:3000', 'a::b::c', '# a comment', '']) {
      expect(asText(line)).toBe(line)
    }
  })

  test('line breaks inside one string split as the runners split them (\\n, \\r, \\r\\n), each line neutralised', () => {
    expect(linesAsText('ok\r::add-mask::a\r\n::set-output name=x::y\nend')).toEqual(['ok', `${NEUTRAL_MARK}::add-mask::a`, `${NEUTRAL_MARK}::set-output name=x::y`, 'end'])
    expect(asText('a\n::add-mask::b')).toBe(`a\n${NEUTRAL_MARK}::add-mask::b`)
  })

  test('neutralising twice changes nothing more', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(asText(asText(s))).toBe(asText(s))
      })
    )
  })
})

/** Lines built from the pieces that matter to the runners' parsers. */
const commandish = fc
  .array(
    fc.oneof(
      fc.constantFrom('::', ':', '##[', '#', '[', ']', ' ', '\t', '\u0085', '\u3000', '\u200b', '\u00ad', '\ufeff', '\r', '\n', '\r\n', '%0A', '%25', ',', ';', '='),
      fc.constantFrom('stop-commands', 'add-mask', 'set-output name=result', 'error title=t', 'set-env name=A', 'x', 'deployed'),
      fc.string({ unit: 'binary', maxLength: 4 })
    ),
    { maxLength: 14 }
  )
  .map((parts) => parts.join(''))

describe('property: no output line of linesAsText is a command on any runner', () => {
  test.each([
    ['command-like pieces', commandish],
    ['any text', fc.string({ unit: 'binary', maxLength: 80 })]
  ])('%s', (_, arb) => {
    fc.assert(
      fc.property(arb, (text) => {
        const lines = linesAsText(text)
        for (const line of lines) {
          expect(line).not.toMatch(/[\r\n]/)
          expect(commandIn(line), JSON.stringify(line)).toBeNull()
        }
        // Printed one after the other, as a block: no runner processes anything, stop-commands included.
        const printed = lines.map((l) => `  ${l}`).join('\n') + '\n'
        expect(githubCommands(printed)).toEqual([])
        expect(actCommands(printed)).toEqual([])
      }),
      { numRuns: 3000 }
    )
  })
})

// The inputs the action passes to a host's run itself: a staged upload is taken (moved, removed)
// only from the agent's staging area, so a `staged-upload:` set by hand can never name live data.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { isStagingPath } from '../../src/core/internal-inputs.js'
import { parseInputs } from '../../src/shell/inputs.js'

describe('isStagingPath', () => {
  test.each([
    ['/home/deploy/.cache/pm2-safe-deploy/staging/2026-12-06T05-00-00-000Z-Ab12', true],
    ['/tmp/x/pm2-safe-deploy/staging/r1', true],
    ['/srv/app/releases/r1', false],
    ['/home/deploy/.cache/pm2-safe-deploy/staging', false],
    ['/home/deploy/.cache/pm2-safe-deploy/staging/', false],
    ['/home/deploy/.cache/pm2-safe-deploy/staging/../../../srv/app', false],
    ['/x/pm2-safe-deploy/staging/..', false],
    ['pm2-safe-deploy/staging/r1', false],
    ['/', false]
  ])('%s → %s', (p, ok) => {
    expect(isStagingPath(p)).toBe(ok)
  })

  test('property: a path it accepts lies one level under a staging directory and climbs nowhere', () => {
    const seg = fc.constantFrom('a', 'b', '..', '.', 'staging', 'pm2-safe-deploy', '')
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 7 }), (parts) => {
        const p = '/' + parts.join('/')
        if (!isStagingPath(p)) return
        const segs = p.split('/')
        expect(segs.at(-2)).toBe('staging')
        expect(segs.at(-3)).toBe('pm2-safe-deploy')
        expect(segs).not.toContain('..')
      })
    )
  })

  test('parseInputs refuses a staged-upload outside the staging area, naming the fix', () => {
    const env = { INPUT_APP: 'shop', INPUT_WHITELIST: 'api', 'INPUT_STAGED-UPLOAD': '/srv/shop/releases/r1' }
    expect(() => parseInputs(env)).toThrowError(/staged-upload: \/srv\/shop\/releases\/r1 is not in the staging area .*remove `staged-upload` from the step's `with:`/)
  })
})

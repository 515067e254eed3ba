// The supported pm2 range as data, and the warnings for versions outside it or a CLI and daemon that differ.
import { describe, expect, test } from 'vitest'
import { isSupportedPm2, parseVersion, pm2VersionWarnings, SUPPORTED_PM2 } from '../../src/core/pm2-versions.js'

describe('the supported pm2 range', () => {
  test('5.4.0 up to, not including, 8.0.0; the tested versions inside it', () => {
    for (const v of ['5.4.0', '5.4.3', '6.0.14', '7.0.4', '7.9.99', 'v6.0.8', '7.1.0-beta.2']) expect(isSupportedPm2(v), v).toBe(true)
    for (const v of ['5.3.1', '4.5.6', '8.0.0', '10.1.0', 'latest', '', '7']) expect(isSupportedPm2(v), v).toBe(false)
    expect(parseVersion(' 6.0.14\n')).toEqual([6, 0, 14])
    expect(SUPPORTED_PM2.text).toMatch(/^5\.4 to 7\.x/)
  })

  test('no warning inside the range, or when a version is not known', () => {
    expect(pm2VersionWarnings({ cli: '7.0.4', daemon: '7.0.4' })).toEqual([])
    expect(pm2VersionWarnings({ cli: null, daemon: null })).toEqual([])
    expect(pm2VersionWarnings({ cli: '6.0.14', daemon: null })).toEqual([])
  })

  test('a version outside it: one warning naming what was found and the range', () => {
    const [w, ...rest] = pm2VersionWarnings({ cli: '4.5.6', daemon: '4.5.6' })
    expect(rest).toEqual([])
    expect(w).toMatch(/^pm2 CLI 4\.5\.6 and PM2 daemon 4\.5\.6 are outside the supported range, pm2 5\.4 to 7\.x \(tested: 5\.4\.3, 6\.0\.14, 7\.0\.4\)/)
    expect(pm2VersionWarnings({ cli: '8.0.1', daemon: null })[0]).toMatch(/^pm2 CLI 8\.0\.1 is outside the supported range/)
  })

  test('CLI and daemon differ: said, also inside the range', () => {
    expect(pm2VersionWarnings({ cli: '7.0.4', daemon: '6.0.14' })).toEqual([expect.stringMatching(/^the pm2 CLI \(7\.0\.4\) and the running PM2 daemon \(6\.0\.14\) differ/)])
    expect(pm2VersionWarnings({ cli: '7.0.4', daemon: '5.3.0' })).toHaveLength(2)
  })
})

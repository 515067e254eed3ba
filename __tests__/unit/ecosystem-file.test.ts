// Which ecosystem file names PM2 reads as configuration (Common.isConfigFile), no daemon.
import { describe, expect, test } from 'vitest'
import { ecosystemFileProblem, pm2ConfigKind } from '../../src/shell/ecosystem.js'
import { lineColumn } from '../../src/shell/ecosystem-reader.js'

describe('pm2ConfigKind mirrors PM2', () => {
  test.each([
    ['/srv/app/ecosystem.config.js', 'js'],
    ['/srv/app/ecosystem.config.cjs', 'js'],
    ['/srv/app/ecosystem.config.mjs', 'mjs'],
    ['/srv/app/apps.json', 'json'],
    ['/srv/app/pm2.yml', 'yaml'],
    ['/srv/app/pm2.yaml', 'yaml'],
    ['/srv/app/ecosystem.js', null],
    ['/srv/app/apps.cjs', null],
    ['/srv/app.json.d/ecosystem.config.js', 'json']
  ])('%s → %s', (file, kind) => expect(pm2ConfigKind(file)).toBe(kind))
})

describe('ecosystemFileProblem', () => {
  test.each(['/srv/app/ecosystem.config.js', '/srv/app/ecosystem.config.cjs', '/srv/app/apps.json', '/srv/app/pm2.yml', '/srv/app/pm2.yaml'])(
    '%s is fine',
    (file) => expect(ecosystemFileProblem(file)).toBeNull()
  )

  test('a JS file without .config in its name is refused with the new name', () => {
    expect(ecosystemFileProblem('/srv/app/ecosystem.js')).toMatch(/it would run ecosystem\.js itself as an app instead\. Rename it to ecosystem\.config\.js/)
    expect(ecosystemFileProblem('/srv/app/apps.cjs')).toMatch(/Rename it to apps\.config\.cjs/)
  })

  test('an ES module is refused with the CommonJS fix', () => {
    expect(ecosystemFileProblem('/srv/app/ecosystem.config.mjs')).toMatch(/is an ES module.*module\.exports = \{ apps: \[\.\.\.\] \}.*ecosystem\.config\.cjs/)
    expect(ecosystemFileProblem('/srv/app/ecosystem.mjs')).toMatch(/in ecosystem\.config\.cjs/)
  })

  test('a marker elsewhere in the path that PM2 would misread is refused', () => {
    expect(ecosystemFileProblem('/srv/app.json.d/ecosystem.config.js')).toMatch(/finds "\.json" and would read this \.js file as json/)
  })

  test('an unknown extension is refused', () => {
    expect(ecosystemFileProblem('/srv/app/ecosystem.toml')).toMatch(/has extension "\.toml": use one of \.js \.cjs \.mjs \.json \.yml \.yaml/)
  })
})

test('lineColumn counts from 1', () => {
  expect(lineColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 })
  expect(lineColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 })
})

// preflight.ts without a daemon: scripts of each kind in a temp dir, PM2's interpreter rules.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { EcosystemApp } from '../../src/shell/ecosystem.js'
import { inspectScript, interpreterMismatch, pm2Interpreter, preflightApps, resolveAppPaths, scriptKind } from '../../src/shell/preflight.js'

let dir: string
let bin: string
const file = (rel: string, text: string, mode = 0o644) => {
  const full = path.join(dir, rel)
  fs.mkdirSync(path.dirname(full), { recursive: true })
  fs.writeFileSync(full, text, { mode })
  fs.chmodSync(full, mode)
  return full
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-preflight-'))
  file('app/server.js', "require('http')\n")
  file('app/bin/www', '#!/usr/bin/env node\nrequire("../server.js")\n', 0o755)
  file('app/worker.py', 'import time\n')
  file('app/.venv/bin/uvicorn', '#!/srv/app/.venv/bin/python3\nfrom uvicorn.main import main\nmain()\n', 0o755)
  file('app/.venv/bin/python', '#!/bin/sh\n', 0o755)
  file('app/plain-uvicorn', '#!/usr/bin/python3\nimport sys\n', 0o644)
  file('app/run.sh', '#!/bin/bash\nexec sleep 1000\n', 0o755)
  file('app/README', 'just text\n')
  fs.copyFileSync(process.execPath, path.join(dir, 'app/native-server'))
  fs.chmodSync(path.join(dir, 'app/native-server'), 0o755)
  file('pathbin/mytool', '#!/usr/bin/env node\n', 0o755)
  file('pathbin/python3', '#!/bin/sh\n', 0o755)
  bin = path.join(dir, 'pathbin')
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const app = (o: Partial<EcosystemApp> & Pick<EcosystemApp, 'name'>): EcosystemApp => ({
  script: null,
  cwd: null,
  interpreter: null,
  execMode: null,
  instances: null,
  namespace: null,
  appendEnvToName: false,
  namePrefix: null,
  ...o
})
const check = (apps: EcosystemApp[], own = apps.map((a) => a.name)) => preflightApps(own, apps, dir, { searchPath: bin })

describe('scriptKind', () => {
  test('a .py file is python', () => expect(scriptKind(path.join(dir, 'app/worker.py'))).toBe('python'))
  test("a python #! line (a virtualenv's bin/uvicorn) is python", () => expect(scriptKind(path.join(dir, 'app/.venv/bin/uvicorn'))).toBe('python'))
  test('an ELF binary is native', () => expect(scriptKind(path.join(dir, 'app/native-server'))).toBe('native'))
  test('a .js file is node', () => expect(scriptKind(path.join(dir, 'app/server.js'))).toBe('node'))
  test('a node #! line without extension is node', () => expect(scriptKind(path.join(dir, 'app/bin/www'))).toBe('node'))
  test('a bash #! line is shell', () => expect(scriptKind(path.join(dir, 'app/run.sh'))).toBe('shell'))
  test('text with no extension and no #! is unknown', () => expect(scriptKind(path.join(dir, 'app/README'))).toBe('unknown'))
  test('a missing file is unknown', () => expect(scriptKind(path.join(dir, 'nope.bin'))).toBe('unknown'))
  test('inspectScript tells the #! line and the x bit', () => {
    expect(inspectScript(path.join(dir, 'app/.venv/bin/uvicorn'))).toEqual({ kind: 'python', shebang: '#!/srv/app/.venv/bin/python3', executable: true })
    expect(inspectScript(path.join(dir, 'app/plain-uvicorn')).executable).toBe(false)
  })
})

describe("PM2's interpreter choice", () => {
  test('a .py script without interpreter runs with python', () => expect(pm2Interpreter(null, '/a/worker.py', 'python')).toBe('python'))
  test('a script without known extension runs with node, whatever its #! line says', () => expect(pm2Interpreter(null, '/a/.venv/bin/uvicorn', 'python')).toBe('node'))
  test("a binary without interpreter gets 'none'", () => expect(pm2Interpreter(null, '/a/server', 'native')).toBe('none'))
  test('a configured interpreter wins', () => expect(pm2Interpreter('node', '/a/worker.py', 'python')).toBe('node'))
  test('a venv python running a python script fits', () => {
    expect(interpreterMismatch('/srv/app/.venv/bin/python', { kind: 'python', shebang: null, executable: false }, true)).toBeNull()
  })
})

describe('preflightApps', () => {
  test('fitting apps pass', () => {
    expect(
      check([
        app({ name: 'api', script: 'server.js', cwd: 'app' }),
        app({ name: 'www', script: 'bin/www', cwd: 'app' }),
        app({ name: 'py', script: 'worker.py', cwd: 'app' }),
        app({ name: 'venv-py', script: 'worker.py', cwd: 'app', interpreter: path.join(dir, 'app/.venv/bin/python') }),
        app({ name: 'uvicorn', script: '.venv/bin/uvicorn', cwd: 'app', interpreter: 'none' }),
        app({ name: 'native', script: 'native-server', cwd: 'app' }),
        app({ name: 'tool', script: 'mytool', cwd: 'app' }),
        app({ name: 'cmdline', script: 'npm run start', cwd: 'app' })
      ])
    ).toEqual([])
  })

  test("a virtualenv's bin/uvicorn left to node is refused with the fix", () => {
    const [p] = check([app({ name: 'api', script: '.venv/bin/uvicorn', cwd: 'app' })])
    expect(p!.app).toBe('api')
    expect(p!.problem).toMatch(/is a python script, but PM2 would run it with node/)
    expect(p!.problem).toMatch(/interpreter: 'none'/)
    expect(p!.problem).toMatch(/virtualenv's python/)
  })

  test('a .py script with the node interpreter is refused', () => {
    const [p] = check([app({ name: 'py', script: 'worker.py', cwd: 'app', interpreter: 'node' })])
    expect(p!.problem).toMatch(/is a python script, but `interpreter: 'node'`/)
  })

  test('a native binary with the node interpreter is refused', () => {
    const [p] = check([app({ name: 'bin', script: 'native-server', cwd: 'app', interpreter: '/usr/bin/node' })])
    expect(p!.problem).toMatch(/is a native binary, .*set `interpreter: 'none'`/)
  })

  test('a node script with a python interpreter is refused', () => {
    const [p] = check([app({ name: 'api', script: 'server.js', cwd: 'app', interpreter: 'python3' })])
    expect(p!.problem).toMatch(/is a node script, but `interpreter: 'python3'`/)
  })

  test("interpreter 'none' needs an executable with a #! line", () => {
    expect(check([app({ name: 'a', script: 'plain-uvicorn', cwd: 'app', interpreter: 'none' })])[0]!.problem).toMatch(/chmod \+x/)
    expect(check([app({ name: 'b', script: 'worker.py', cwd: 'app', interpreter: 'none' })])[0]!.problem).toMatch(/neither a binary nor starts with a #! line/)
  })

  test('a missing interpreter is refused', () => {
    expect(check([app({ name: 'a', script: 'worker.py', cwd: 'app', interpreter: '/nowhere/.venv/bin/python' })])[0]!.problem).toMatch(
      /interpreter \/nowhere\/.venv\/bin\/python does not exist/
    )
    expect(check([app({ name: 'b', script: 'hello.rb', cwd: 'app', interpreter: 'ruby-nope' })])[0]!.problem).toMatch(/script .*hello\.rb does not exist/)
    file('app/hello.rb', 'puts 1\n')
    expect(check([app({ name: 'c', script: 'hello.rb', cwd: 'app' })])[0]!.problem).toMatch(/interpreter ruby is not on the PATH/)
  })

  test('a relative interpreter must exist from the working directory and from the app cwd', () => {
    const [p] = check([app({ name: 'rel', script: 'worker.py', cwd: 'app', interpreter: '.venv/bin/python' })])
    expect(p!.problem).toMatch(new RegExp(`interpreter ${dir}/\\.venv/bin/python does not exist.*use an absolute path`))
    expect(check([app({ name: 'abs', script: 'app/worker.py', interpreter: 'app/.venv/bin/python' })])).toEqual([])
  })

  test('a missing script, a missing cwd and a missing own name are errors', () => {
    const problems = check(
      [
        app({ name: 'gone', script: 'dist/server.js', cwd: 'app' }),
        app({ name: 'nocwd', script: 'server.js', cwd: 'releases/r9' }),
        app({ name: 'noscript' }),
        app({ name: 'nocmd', script: 'no-such-command', cwd: 'app' })
      ],
      ['gone', 'nocwd', 'noscript', 'nocmd', 'undeclared']
    )
    expect(problems.map((p) => p.app)).toEqual(['gone', 'nocwd', 'noscript', 'nocmd', 'undeclared'])
    expect(problems[0]!.problem).toBe(`script ${path.join(dir, 'app/dist/server.js')} does not exist (missing build artifacts or release? run the build first)`)
    expect(problems[1]!.problem).toMatch(/cwd .*releases\/r9 does not exist/)
    expect(problems[2]!.problem).toMatch(/has no `script`/)
    expect(problems[3]!.problem).toMatch(/no-such-command does not exist/)
    expect(problems[4]!.problem).toMatch(/is not declared in the ecosystem file \(it declares gone, nocwd, noscript, nocmd\)/)
  })

  test('only own apps are checked', () => {
    expect(check([app({ name: 'theirs', script: 'nope.js' }), app({ name: 'mine', script: 'app/server.js' })], ['mine'])).toEqual([])
  })

  test('cwd resolves from the working directory, the script from cwd', () => {
    expect(resolveAppPaths(app({ name: 'a', script: 'server.js', cwd: 'app' }), '/srv/x')).toEqual({ name: 'a', cwd: '/srv/x/app', script: '/srv/x/app/server.js' })
    expect(resolveAppPaths(app({ name: 'a', script: '/opt/s.js' }), '/srv/x')).toEqual({ name: 'a', cwd: '/srv/x', script: '/opt/s.js' })
  })

  test('renaming options are refused for own apps only: name_prefix always, append_env_to_name with an ecosystem-env', () => {
    const apps = [
      app({ name: 'pre', script: 'app/server.js', namePrefix: 'team' }),
      app({ name: 'envy', script: 'app/server.js', appendEnvToName: true }),
      app({ name: 'theirs', script: 'app/server.js', namePrefix: 'x', appendEnvToName: true })
    ]
    const withEnv = preflightApps(['pre', 'envy'], apps, dir, { searchPath: bin, ecosystemEnv: 'production' })
    expect(withEnv.map((p) => p.app)).toEqual(['pre', 'envy'])
    expect(withEnv[0]!.problem).toMatch(/"team:pre".*remove `name_prefix`/)
    expect(withEnv[1]!.problem).toMatch(/"envy-production".*remove `append_env_to_name`/)
    expect(preflightApps(['pre', 'envy'], apps, dir, { searchPath: bin }).map((p) => p.app)).toEqual(['pre'])
  })
})

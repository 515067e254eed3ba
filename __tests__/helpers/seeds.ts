// The systems of the original user documents, rebuilt in a temp dir from their own
// configuration (names, paths, options), with small real stand-in apps:
// 003 an orchestrator and five agents (pm2/ecosystem.dev.config.js), 004 npm-started
// backend services with their own log files, 000 a python app in a virtualenv behind
// a `current` symlink.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

function write(file: string, text: string, mode = 0o644): string {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text, { mode })
  return file
}

// ---------------------------------------------------------------- 003: Agentic SDLC

export const SDLC_AGENTS = [
  ['agent-scaffold', 'scaffold-agent'],
  ['agent-validation', 'validation-agent'],
  ['agent-e2e', 'e2e-agent'],
  ['agent-integration', 'integration-agent'],
  ['agent-deployment', 'deployment-agent']
] as const
export const SDLC_NAMES = ['orchestrator', ...SDLC_AGENTS.map(([name]) => name)]

const ORCHESTRATOR = `// Stand-in for packages/orchestrator/dist/server.js: answers /health.
const http = require('node:http')
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ service: 'orchestrator', status: 'ok', pid: process.pid }))
})
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('orchestrator listening on ' + process.env.PORT))
process.on('SIGINT', () => server.close(() => process.exit(0)))
`

const agentScript = (dir: string) => `// Stand-in for packages/agents/${dir}/dist/run-agent.js: waits for work.
console.log('${dir} ready (pid ' + process.pid + ')')
const timer = setInterval(() => {}, 60 * 60 * 1000)
process.on('SIGINT', () => { clearInterval(timer); process.exit(0) })
`

/** The repository checkout: built packages (dist/), pm2/ecosystem.dev.config.js, scripts/logs/. */
export function buildAgenticSdlc(root: string, orchestratorPort: number): void {
  write(path.join(root, 'package.json'), JSON.stringify({ name: 'agentic-sdlc', private: true }, null, 2))
  write(path.join(root, 'packages/orchestrator/dist/server.js'), ORCHESTRATOR)
  for (const [, dir] of SDLC_AGENTS) write(path.join(root, `packages/agents/${dir}/dist/run-agent.js`), agentScript(dir))
  // As the document describes it: 1 GB for the orchestrator, 512 MB per agent, 10 restarts,
  // 10 s min uptime, 4 s restart delay, no watch, logs in scripts/logs/ named by service.
  write(
    path.join(root, 'pm2/ecosystem.dev.config.js'),
    `// PM2 ecosystem for local development and pilot deployments (not production orchestration).
const path = require('path')

const ROOT = path.resolve(__dirname, '..')
const LOGS = path.join(ROOT, 'scripts', 'logs')

const common = {
  cwd: ROOT,
  autorestart: true,
  max_restarts: 10,
  min_uptime: '10s',
  restart_delay: 4000,
  watch: false,
}

const agent = (name, dir) => ({
  ...common,
  name,
  script: \`packages/agents/\${dir}/dist/run-agent.js\`,
  max_memory_restart: '512M',
  out_file: path.join(LOGS, \`\${dir}-out.log\`),
  error_file: path.join(LOGS, \`\${dir}-error.log\`),
  env: { NODE_ENV: 'development' },
})

module.exports = {
  apps: [
    {
      ...common,
      name: 'orchestrator',
      script: 'packages/orchestrator/dist/server.js',
      max_memory_restart: '1G',
      out_file: path.join(LOGS, 'orchestrator-out.log'),
      error_file: path.join(LOGS, 'orchestrator-error.log'),
      env: { NODE_ENV: 'development', PORT: ${orchestratorPort} },
    },
${SDLC_AGENTS.map(([name, dir]) => `    agent('${name}', '${dir}'),`).join('\n')}
  ],
}
`
  )
}

// ---------------------------------------------------------------- 004: multi-service backend

export interface Service {
  name: string
  dir: string
  port: number
  /** Writes these lines to stderr and exits 1 shortly after each start. */
  crash?: string[]
}

const serviceScript = (s: Service) =>
  s.crash
    ? `// ${s.name}: fails at start-up, as a service with a missing secret does.
console.log('${s.name} starting')
setTimeout(() => {
${s.crash.map((l) => `  console.error(${JSON.stringify(l)})`).join('\n')}
  process.exit(1)
}, 300)
`
    : `// ${s.name}: a small HTTP service.
const http = require('node:http')
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ service: '${s.name}', env: process.env.NODE_ENV }))
})
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('${s.name} listening on ' + process.env.PORT))
process.on('SIGINT', () => server.close(() => process.exit(0)))
`

/** project/backend/<dir>/ with package.json (`npm start` → node server.js) and server.js. */
export function buildService(project: string, s: Service): void {
  const dir = path.join(project, 'backend', s.dir)
  write(path.join(dir, 'package.json'), JSON.stringify({ name: s.name, version: '1.0.0', private: true, scripts: { start: 'node server.js' } }, null, 2))
  write(path.join(dir, 'server.js'), serviceScript(s))
}

/** ecosystem.config.js exactly in the document's shape: npm start, cwd and log files per service. */
export function writeBackendEcosystem(project: string, services: Service[], file = 'ecosystem.config.js', extra: Record<string, unknown> = {}): string {
  const apps = services.map(
    (s) => `    {
      name: '${s.name}',
      script: 'npm',
      args: 'start',
      cwd: './backend/${s.dir}',
      error_file: './backend/${s.dir}/logs/error.log',
      out_file: './backend/${s.dir}/logs/out.log',
      env: {
        NODE_ENV: 'development',
        PORT: ${s.port},
      },${Object.entries(extra)
        .map(([k, v]) => `\n      ${k}: ${JSON.stringify(v)},`)
        .join('')}
    },`
  )
  return write(path.join(project, file), `module.exports = {\n  apps: [\n${apps.join('\n')}\n  ],\n};\n`)
}

// ---------------------------------------------------------------- 000: python backend in a venv

/** Why `python3 -m venv` cannot make a virtualenv here, or null when it can. */
export function venvUnavailable(): string | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-venv-probe-'))
  try {
    const r = spawnSync('python3', ['-m', 'venv', '--without-pip', path.join(dir, 'v')], { encoding: 'utf8', timeout: 60_000 })
    if (r.error) return `python3 is not available (${r.error.message})`
    if (r.status !== 0) return `\`python3 -m venv --without-pip\` failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`
    return fs.existsSync(path.join(dir, 'v/bin/python')) ? null : '`python3 -m venv` made no bin/python'
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// Stand-in for `python -m uvicorn app.main:app --host … --port …`: the same command-line
// shape, the same welcome answer, plus where it runs from (release, interpreter prefix).
const APP_SERVER = `"""Stand-in for uvicorn: python -m app_server app.main:app --host H --port N."""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("app")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8000)
args = parser.parse_args()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "message": "Welcome to the Auto Author API!",
            "release": os.path.basename(os.path.dirname(os.getcwd())),
            "prefix": sys.prefix,
            "app": args.app,
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


print(f"INFO:     Uvicorn running on http://{args.host}:{args.port}", flush=True)
HTTPServer((args.host, args.port), Handler).serve_forever()
`

/** releases/<release>/backend/{app_server.py,.venv} and ecosystem.config.js at the release root. */
export function buildAutoAuthorRelease(base: string, release: string, port: number): string {
  const dir = path.join(base, 'releases', release)
  write(path.join(dir, 'backend/app_server.py'), APP_SERVER)
  const venv = spawnSync('python3', ['-m', 'venv', '--without-pip', path.join(dir, 'backend/.venv')], { encoding: 'utf8', timeout: 60_000 })
  if (venv.status !== 0) throw new Error(`python3 -m venv failed: ${venv.stderr}`)
  // The document's file, with /opt/auto-author as this temp dir and a free port.
  write(
    path.join(dir, 'ecosystem.config.js'),
    `module.exports = {
  apps: [
    {
      name: 'auto-author-backend',
      script: '.venv/bin/python',
      args: '-m app_server app.main:app --host 127.0.0.1 --port ${port}',
      cwd: '${path.join(base, 'current', 'backend')}',
      interpreter: 'none', // Critical: prevents Node.js interpretation
      autorestart: true,
      max_restarts: 10,
    }
  ]
};
`
  )
  return dir
}

/** Points `<base>/current` at releases/<release> atomically (a new link renamed over the old). */
export function switchCurrent(base: string, release: string): void {
  const tmp = path.join(base, `.current-${process.pid}`)
  fs.rmSync(tmp, { force: true })
  fs.symlinkSync(path.join('releases', release), tmp)
  fs.renameSync(tmp, path.join(base, 'current'))
}

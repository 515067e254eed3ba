// The remote inputs (promise 12), parsed once on the runner. The deploy inputs are NOT checked
// here: their paths are the host's, so they travel as text and the host's run() parses them.
import os from 'node:os'
import * as core from '@actions/core'
import { z } from 'zod'
import { batchesOf, parseHostsPerBatch } from '../core/batches.js'
import { parseKnownHosts, parseSshAddress, type KnownHostsLine, type SshAddress } from '../core/ssh.js'
import { InputError, INPUT_DEFAULTS } from '../shell/inputs.js'
import type { HostSpec } from './host.js'
import { parseUploadExclude } from './upload.js'

/** The inputs that drive the transport: the host never sees them (an empty `ssh-host` there means a local deploy). */
export const REMOTE_INPUT_NAMES = ['ssh-host', 'ssh-user', 'ssh-key', 'ssh-known-hosts', 'ssh-jump', 'upload', 'upload-exclude', 'ssh-env', 'hosts-per-batch', 'rollback-hosts'] as const

export interface RemoteInputs {
  hosts: HostSpec[]
  /** The private key, as given (a secret: never logged, written only to a 0600 file). */
  key: string | null
  knownHosts: KnownHostsLine[]
  jump: SshAddress | null
  /** A directory on the runner to copy to `release-dir` on each host. */
  upload: string | null
  /** `upload-exclude`: GNU tar --exclude patterns (default `.git`). */
  uploadExclude: string[]
  /** `ssh-env`: the named step variables and their values (secrets: never logged, sent on stdin only). */
  stepEnv: Record<string, string>
  rollbackHosts: boolean
  /** The hosts in their batches (`hosts-per-batch`; the default `1`: one host at a time). */
  batches: HostSpec[][]
  /** Every deploy input (not the remote ones) as the workflow gave it, for the host's run(). */
  forwarded: Record<string, string>
}

export type Read = (name: string) => string

const readAction: Read = (name) => core.getInput(name)

/** Whether this step deploys over SSH. */
export function remoteRequested(read: Read = readAction): boolean {
  return read('ssh-host').trim() !== ''
}

const lines = (v: string) =>
  v
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'))

/** Names `ssh-env` may not carry: the runner's and the action's own (the host sets them itself). */
const RESERVED_ENV = /^(INPUT_|STATE_|GITHUB_|GITEA_|FORGEJO_|RUNNER_|ACTIONS_)|^(PATH|HOME|PM2_HOME)$/

/** `ssh-env`: names one per line or comma separated, each set in the step's environment. */
export function parseSshEnv(text: string, env: NodeJS.ProcessEnv, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of text.split(/[\n,]/).map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'))) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`ssh-env: ${JSON.stringify(name)} is not an environment variable name`)
    else if (RESERVED_ENV.test(name)) problems.push(`ssh-env: ${name} is set by the runner or the action itself and cannot be sent`)
    else if (env[name] === undefined) problems.push(`ssh-env: ${name} is not set in this step's environment: set it in the step's \`env:\` (e.g. \`${name}: \${{ secrets.${name} }}\`), or remove it from ssh-env`)
    else out[name] = env[name]
  }
  return out
}

export function parseRemoteInputs(read: Read = readAction, runnerUser: () => string = () => os.userInfo().username, env: NodeJS.ProcessEnv = process.env): RemoteInputs {
  const problems: string[] = []
  const user = read('ssh-user').trim()
  if (user && !/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(user)) problems.push(`ssh-user: ${JSON.stringify(user)} is not a plain user name`)
  const hosts: HostSpec[] = []
  for (const label of lines(read('ssh-host'))) {
    const a = parseSshAddress(label)
    if (typeof a === 'string') problems.push(`ssh-host: ${a}`)
    else if (hosts.some((h) => h.label === label)) problems.push(`ssh-host: ${label} is listed twice`)
    else hosts.push({ label, user: a.user ?? (user || runnerUser()), host: a.host, port: a.port })
  }
  const jumpText = read('ssh-jump').trim()
  const jump = jumpText ? parseSshAddress(jumpText) : null
  if (typeof jump === 'string') problems.push(`ssh-jump: ${jump}`)
  const known = parseKnownHosts(read('ssh-known-hosts'))
  problems.push(...known.problems.map((p) => `ssh-known-hosts: ${p}`))
  if (known.lines.length === 0 && known.problems.length === 0) {
    problems.push('ssh-known-hosts is required with ssh-host (host keys are always verified): run `ssh-keyscan -p PORT HOST` for each host from a trusted machine, check the fingerprints, and pass the lines (e.g. from a secret or a variable)')
  }
  const rollbackHosts = z.enum(['true', 'false']).safeParse((read('rollback-hosts').trim() || INPUT_DEFAULTS['rollback-hosts']).toLowerCase())
  if (!rollbackHosts.success) problems.push('rollback-hosts must be true or false')
  const perBatch = parseHostsPerBatch(read('hosts-per-batch') || INPUT_DEFAULTS['hosts-per-batch'])
  if ('problem' in perBatch) problems.push(perBatch.problem)
  const upload = read('upload').trim() || null
  const stepEnv = parseSshEnv(read('ssh-env'), env, problems)
  if (upload && read('rollback-to').trim()) {
    problems.push('upload and rollback-to are both set: rollback-to makes a release already on each host live again, with nothing uploaded. Set `upload` on deploy runs only (leave it empty when rollback-to is set)')
  } else if (upload && !read('release-dir').trim()) problems.push('upload needs release-dir: the directory on each host the upload becomes (e.g. /var/www/app/releases/${{ github.sha }})')
  if (problems.length > 0) throw new InputError(`Invalid inputs:\n${problems.map((p) => `- ${p}`).join('\n')}`)
  const key = read('ssh-key')
  return {
    hosts,
    key: key.trim() ? key : null,
    knownHosts: known.lines,
    jump: jump as SshAddress | null,
    upload,
    uploadExclude: parseUploadExclude(read('upload-exclude')),
    stepEnv,
    rollbackHosts: rollbackHosts.data === 'true',
    batches: 'sizes' in perBatch ? batchesOf(hosts, perBatch.sizes) : [],
    forwarded: forwardedInputs(read)
  }
}

/** Every deploy input by its action.yml name, defaults filled in, the remote ones left out. */
export function forwardedInputs(read: Read): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of Object.keys(INPUT_DEFAULTS)) {
    if ((REMOTE_INPUT_NAMES as readonly string[]).includes(name)) continue
    out[name] = read(name)
  }
  return out
}

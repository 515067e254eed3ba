// `upload` (SPEC "Inputs", promise 15): a directory on the runner sent to the host as a tar
// stream over the host's shared connection. The host unpacks it under a temporary name in its
// cache (inside no directory a deploy may use) and answers that path; the host's run() makes it
// `release-dir` only after its checks, never in a dry run. The runner's tar runs with the same
// clean environment as ssh, and is stopped at once when the host side ends early.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { UserError } from '../core/errors.js'
import { findOnPath } from '../shell/which.js'
import type { HostSpec } from './host.js'
import type { UploadAnswer } from './protocol.js'
import { nodeCommand } from './scripts.js'
import { sshEnv, type RunOptions, type SshResult } from './ssh.js'
import { printLine } from '../shell/print.js'

export class UploadError extends UserError {}

const UPLOAD_MS = 30 * 60_000

export interface UploadOptions {
  /** `upload-exclude`: GNU tar --exclude patterns. */
  exclude: readonly string[]
  signal?: AbortSignal
}

/** What uploadRelease needs of the transport. */
interface Runner {
  run(host: HostSpec, remoteCommand: string, opts: RunOptions): Promise<SshResult>
}

/** `upload-exclude`: one pattern per line or comma separated; empty means nothing is left out. */
export function parseUploadExclude(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'))
}

/** tar's argv for the upload: every pattern one `--exclude=` argument (never a shell string). */
export function tarArgv(source: string, exclude: readonly string[]): string[] {
  return ['-c', '-f', '-', ...exclude.map((p) => `--exclude=${p}`), '-C', source, '.']
}

/** The upload directory on the runner, checked before any host is contacted. */
export function uploadSource(input: string, workspace: string): string {
  const dir = path.resolve(workspace, input)
  let ok = false
  try {
    ok = fs.statSync(dir).isDirectory()
  } catch {
    ok = false
  }
  if (!ok) throw new UploadError(`upload: ${dir} does not exist or is not a directory on the runner: build the release into it before this step, or fix \`upload\``)
  return dir
}

/** Sends the release to the host's staging area; returns its path there (the run's `staged-upload` input). */
export async function uploadRelease(t: Runner, host: HostSpec, node: string, agent: string, source: string, opts: UploadOptions): Promise<string> {
  const tar = findOnPath('tar', [process.env.PATH ?? '', '/usr/bin', '/bin'].join(path.delimiter))
  if (!tar) throw new UploadError('upload needs `tar` on the runner, and this runner has none: install it before this step')
  const t0 = Date.now()
  const stream = new PassThrough()
  // The same environment as ssh: no INPUT_* (the key), no STATE_*.
  const packer = spawn(tar, tarArgv(source, opts.exclude), { stdio: ['ignore', 'pipe', 'pipe'], env: sshEnv(process.env, true) })
  let bytes = 0
  let tarErr = ''
  packer.stdout.on('data', (d: Buffer) => (bytes += d.length))
  packer.stderr.on('data', (d: Buffer) => (tarErr = (tarErr + d.toString()).slice(-4000)))
  packer.stdout.pipe(stream)
  const packed = new Promise<number>((resolve) => {
    packer.on('error', (err) => {
      tarErr = err.message
      resolve(127)
    })
    packer.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)))
  })
  const r = await t.run(host, nodeCommand(node, [agent, 'upload']), { input: stream, timeoutMs: UPLOAD_MS, signal: opts.signal })
  // The host side ended: a packer still writing into the closed pipe would block forever, so it is stopped.
  if (packer.exitCode === null && packer.signalCode === null) {
    packer.stdout.unpipe(stream)
    packer.kill('SIGKILL')
  }
  const tarCode = await packed
  if (r.code !== 0) {
    const reason = r.timedOut ? 'no end in 30 min' : r.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${r.code}`
    throw new UploadError(`upload to ${host.label} failed: ${reason}; nothing on the host was changed`)
  }
  if (tarCode !== 0) throw new UploadError(`upload: packing ${source} failed (tar exit ${tarCode}): ${tarErr.trim().slice(-300)}; nothing on ${host.label} was changed`)
  let answer: UploadAnswer
  try {
    answer = JSON.parse(r.stdout.toString()) as UploadAnswer
  } catch {
    throw new UploadError(`upload to ${host.label}: the host's agent gave no answer: nothing on the host was changed`)
  }
  const skipped = opts.exclude.length ? `, leaving out ${opts.exclude.join(', ')}` : ''
  printLine(`${host.label}: uploaded ${source} (${bytes} bytes in ${((Date.now() - t0) / 1000).toFixed(1)} s${skipped}); it waits on the host in ${answer.staged} until the deploy checks release-dir`)
  return answer.staged
}

// `upload` (SPEC "Inputs"): a directory on the runner copied to `release-dir` on the host, as a
// tar stream over the host's shared connection. The host unpacks it beside release-dir and
// renames it into place only when the whole stream arrived: a partial copy is never made live.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import * as core from '@actions/core'
import { UserError } from '../core/errors.js'
import { findOnPath } from '../shell/which.js'
import type { HostSpec } from './host.js'
import type { UploadHeader } from './protocol.js'
import { nodeCommand } from './scripts.js'
import type { SshTransport } from './ssh.js'

export class UploadError extends UserError {}

const UPLOAD_MS = 30 * 60_000

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

export async function uploadRelease(t: SshTransport, host: HostSpec, node: string, agent: string, source: string, inputs: Record<string, string>): Promise<void> {
  const tar = findOnPath('tar', [process.env.PATH ?? '', '/usr/bin', '/bin'].join(path.delimiter))
  if (!tar) throw new UploadError('upload needs `tar` on the runner, and this runner has none: install it before this step')
  const header: UploadHeader = { releaseDir: inputs['release-dir'] ?? '', currentLink: inputs['current-link'] ?? '' }
  const stream = new PassThrough()
  stream.write(JSON.stringify(header) + '\n')
  const packer = spawn(tar, ['-c', '-f', '-', '-C', source, '.'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let bytes = 0
  let tarErr = ''
  packer.stdout.on('data', (d: Buffer) => (bytes += d.length))
  packer.stderr.on('data', (d: Buffer) => (tarErr += d.toString()))
  packer.stdout.pipe(stream)
  const packed = new Promise<number>((resolve) => packer.on('close', (c) => resolve(c ?? 1)))
  const r = await t.run(host, nodeCommand(node, [agent, 'upload']), { input: stream, timeoutMs: UPLOAD_MS })
  const tarCode = await packed
  if (tarCode !== 0) throw new UploadError(`upload: packing ${source} failed (tar exit ${tarCode}): ${tarErr.trim().slice(-300)}; nothing was made live on ${host.label}`)
  if (r.code !== 0) throw new UploadError(`upload to ${host.label} failed (exit ${r.code}): ${r.stderr.trim().slice(-500)}; nothing was made live`)
  const answer = JSON.parse(r.stdout.toString()) as { releaseDir: string; replaced: boolean }
  core.info(`${host.label}: uploaded ${source} to ${answer.releaseDir} (${bytes} bytes${answer.replaced ? ', replacing the directory there' : ''})`)
}

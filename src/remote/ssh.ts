// The runner's side of the transport: the OpenSSH client with a generated config, a known_hosts
// file and the key in a 0600 file, all in one 0700 directory under RUNNER_TEMP that the post step
// removes. Children are spawned with an argument array (never a shell); node's spawn, not
// @actions/exec, because a remote command streams stdin and stdout and must be bounded.
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { sshArgv, sshConfigText, sshExitArgv, type SshAddress, type SshFiles, type SshHostEntry } from '../core/ssh.js'
import { UserError } from '../core/errors.js'
import { findOnPath } from '../shell/which.js'
import type { HostSpec } from './host.js'

export class SshMissingError extends UserError {}

/** The runner's `ssh`, or a clear error naming the fix. */
export function findSsh(env: NodeJS.ProcessEnv = process.env): string {
  const found = findOnPath('ssh', [env.PATH ?? '', '/usr/bin', '/bin', '/usr/local/bin'].join(path.delimiter))
  if (!found) {
    throw new SshMissingError(
      'ssh-host needs the OpenSSH client (`ssh`) on the runner, and this runner has none. Fix: install it before this step ' +
        '(Debian/Ubuntu image: `apt-get install -y openssh-client`; Alpine: `apk add openssh-client`), or use a runner image that has it (GitHub\'s hosted runners do).'
    )
  }
  return found
}

export interface SshResult {
  code: number
  stdout: Buffer
  stderr: string
  timedOut: boolean
  /** What the jump host's ssh said while this command ran (its key or login refused, …); empty without ssh-jump. */
  jumpStderr?: string
}

export interface RunOptions {
  /** Written to the remote command's stdin, then closed. */
  input?: Buffer | string | Readable
  timeoutMs: number
  /** Each stdout chunk as it arrives (it is then not collected). */
  onStdout?: (chunk: Buffer) => void
  /** Aborting it kills the command's ssh (a cancelled job). */
  signal?: AbortSignal
}

/** What the runner keeps of a command's output: a broken or hostile host, or a shell rc file that prints, cannot fill its memory. */
export const OUTPUT_LIMITS = { stdout: 4 << 20, stderr: 64 * 1024 } as const

/** Control sockets need a short path (sun_path is ~104 bytes; ssh adds `/` + %C's 40 hex + a 17-byte temporary suffix): RUNNER_TEMP unless that is too deep. */
function controlDirFor(dir: string): string {
  if (Buffer.byteLength(path.join(dir, 'c')) + 1 + 40 + 17 < 100) return path.join(dir, 'c')
  return fs.mkdtempSync(path.join(os.tmpdir(), 'psd-'))
}

/** The runner's ssh files for one job (key, known_hosts, config, control sockets), and the commands over them. */
export class SshTransport {
  private readonly aliases = new Map<string, string>()

  private constructor(
    readonly ssh: string,
    readonly dir: string,
    readonly files: SshFiles
  ) {}

  /** Writes the files for these hosts under `tempRoot` (RUNNER_TEMP). The key is written with mode 0600 from the start. */
  static open(ssh: string, tempRoot: string, hosts: readonly HostSpec[], key: string | null, knownHosts: readonly string[], jump: SshAddress | null): SshTransport {
    fs.mkdirSync(tempRoot, { recursive: true })
    const dir = fs.mkdtempSync(path.join(tempRoot, 'psd-ssh-'))
    fs.chmodSync(dir, 0o700)
    const controlDir = controlDirFor(dir)
    fs.mkdirSync(controlDir, { recursive: true, mode: 0o700 })
    const files: SshFiles = { config: path.join(dir, 'config'), knownHosts: path.join(dir, 'known_hosts'), key: key ? path.join(dir, 'id') : null, controlDir, jumpErrors: jump ? path.join(dir, 'jump-errors') : undefined }
    if (key && files.key) fs.writeFileSync(files.key, key.replace(/\r\n/g, '\n').trimEnd() + '\n', { mode: 0o600, flag: 'wx' })
    fs.writeFileSync(files.knownHosts, knownHosts.join('\n') + '\n', { mode: 0o600 })
    const t = new SshTransport(ssh, dir, files)
    const entries: SshHostEntry[] = hosts.map((h, i) => {
      const alias = `psd-host-${i}`
      t.aliases.set(h.label, alias)
      return { alias, address: { user: h.user, host: h.host, port: h.port } }
    })
    if (files.jumpErrors) fs.writeFileSync(files.jumpErrors, '', { mode: 0o600 })
    fs.writeFileSync(files.config, sshConfigText(entries, files, jump, ssh), { mode: 0o600 })
    return t
  }

  private alias(host: HostSpec): string {
    const a = this.aliases.get(host.label)
    if (!a) throw new Error(`no ssh config entry for ${host.label}`)
    return a
  }

  /** Runs one remote command on the host's shared connection; never throws (a spawn failure is code 127). */
  run(host: HostSpec, remoteCommand: string, opts: RunOptions): Promise<SshResult> {
    return new Promise((resolve) => {
      const jumpFrom = this.jumpErrorsSize()
      const child = spawn(this.ssh, sshArgv(this.files.config, this.alias(host), remoteCommand), {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: sshEnv(process.env, this.files.key !== null)
      })
      const out: Buffer[] = []
      let outBytes = 0
      let stderr = ''
      let timedOut = false
      let refused: string | null = null
      const refuse = (why: string) => {
        refused = why
        child.kill('SIGKILL')
      }
      child.stdout.on('data', (d: Buffer) => {
        if (refused !== null) return
        if (!opts.onStdout) {
          outBytes += d.length
          if (outBytes > OUTPUT_LIMITS.stdout) return refuse(`the host sent more than ${OUTPUT_LIMITS.stdout} bytes where the action expects a short answer`)
          return void out.push(d)
        }
        try {
          opts.onStdout(d)
        } catch (err) {
          // The reader refused what the host sent (not the agent's frames): stop reading it.
          refuse(err instanceof Error ? err.message : String(err))
        }
      })
      // The last 64 KiB: ssh's own error is its last line.
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-OUTPUT_LIMITS.stderr)))
      child.stdin.on('error', () => undefined)
      const timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, opts.timeoutMs)
      const onAbort = () => child.kill('SIGKILL')
      if (opts.signal?.aborted) onAbort()
      else opts.signal?.addEventListener('abort', onAbort, { once: true })
      child.on('error', (err) => {
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        resolve({ code: 127, stdout: Buffer.alloc(0), stderr: err.message, timedOut: false })
      })
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        if (refused !== null) return resolve({ code: 254, stdout: Buffer.concat(out), stderr: refused, timedOut })
        resolve({ code: code ?? (signal ? 255 : 1), stdout: Buffer.concat(out), stderr, timedOut, jumpStderr: this.jumpErrorsSince(jumpFrom) })
      })
      const input = opts.input
      if (input === undefined) child.stdin.end()
      else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input)
      else input.pipe(child.stdin)
    })
  }

  private jumpErrorsSize(): number {
    try {
      return this.files.jumpErrors ? fs.statSync(this.files.jumpErrors).size : 0
    } catch {
      return 0
    }
  }

  /** The jump host's errors written since `from` (the last 64 KiB). */
  private jumpErrorsSince(from: number): string {
    if (!this.files.jumpErrors) return ''
    try {
      const size = fs.statSync(this.files.jumpErrors).size
      const start = Math.max(from, size - OUTPUT_LIMITS.stderr)
      if (size <= start) return ''
      const fd = fs.openSync(this.files.jumpErrors, 'r')
      const buf = Buffer.alloc(size - start)
      fs.readSync(fd, buf, 0, buf.length, start)
      fs.closeSync(fd)
      return buf.toString()
    } catch {
      return ''
    }
  }

  /** Closes every shared connection (the masters would otherwise linger for ControlPersist). */
  async closeAll(hosts: readonly HostSpec[]): Promise<void> {
    await Promise.all(
      hosts.map(
        (h) =>
          new Promise<void>((resolve) => {
            const child = spawn(this.ssh, sshExitArgv(this.files.config, this.alias(h)), { stdio: 'ignore', env: sshEnv(process.env, this.files.key !== null) })
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
            child.on('error', () => resolve())
            child.on('close', () => {
              clearTimeout(timer)
              resolve()
            })
          })
      )
    )
  }

  /** Removes the key, known_hosts, config and sockets. */
  dispose(): void {
    removeSshDir(this.dir, this.files.controlDir)
  }
}

/** A killed main step's shared connections: closed through its config, when it is still there. */
export async function closeLeftMasters(dir: string): Promise<void> {
  const config = path.join(dir, 'config')
  let aliases: string[] = []
  try {
    aliases = [...fs.readFileSync(config, 'utf8').matchAll(/^Host (psd-host-\d+)$/gm)].map((m) => m[1]!)
  } catch {
    return
  }
  const ssh = findOnPath('ssh', [process.env.PATH ?? '', '/usr/bin', '/bin'].join(path.delimiter))
  if (!ssh) return
  await Promise.all(aliases.map((a) => new Promise<void>((resolve) => {
    const child = spawn(ssh, sshExitArgv(config, a), { stdio: 'ignore', env: sshEnv(process.env, true) })
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.on('error', () => resolve())
    child.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })))
}

/** Removes a transport's directory (and its control directory when that lives elsewhere); the key first. */
export function removeSshDir(dir: string, controlDir?: string): void {
  const key = path.join(dir, 'id')
  try {
    // Overwritten before unlinking: the bytes do not stay in a freed block the next job can read.
    const size = fs.statSync(key).size
    fs.writeFileSync(key, crypto.randomBytes(size))
  } catch {
    // no key file
  }
  fs.rmSync(dir, { recursive: true, force: true })
  if (controlDir && !controlDir.startsWith(dir + path.sep)) fs.rmSync(controlDir, { recursive: true, force: true })
}

/** The environment for ssh: the runner's, minus every input and state value (a secret), with the agent only when no key is given. */
export function sshEnv(env: NodeJS.ProcessEnv, haveKey: boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || /^(INPUT_|STATE_)/.test(k)) continue
    if (haveKey && k === 'SSH_AUTH_SOCK') continue
    out[k] = v
  }
  return out
}

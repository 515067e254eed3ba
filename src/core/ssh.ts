// The OpenSSH client's argv and its generated `-F` config, as data (promise 12). Host keys are
// always checked (BatchMode, StrictHostKeyChecking, a known_hosts file from the input only), the
// key is offered alone (IdentitiesOnly), one connection per host is reused (ControlMaster) and a
// silent drop is seen (ServerAlive). Options on ssh's command line do not reach a ProxyJump hop:
// everything lives in the config file, which ssh passes on to the jump.
import { createHmac } from 'node:crypto'

/** One `[user@]host[:port]` as parsed: the user may be missing (then `ssh-user`, then the runner's user). */
export interface SshAddress {
  user: string | null
  host: string
  port: number
}

/** A user name ssh and a remote shell take as one plain word. */
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
/** A DNS name or IPv4 address; an IPv6 address goes in brackets. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?)*\.?|\[[0-9A-Fa-f:.]+\])$/

/** Parses `[user@]host[:port]`; the reason in words when it is not one (no option-like or multi-word values reach ssh). */
export function parseSshAddress(line: string): SshAddress | string {
  const m = line.match(/^(?:([^@\s]+)@)?(\[[^\]\s]+\]|[^:@\s]+)(?::(\d+))?$/)
  if (!m) return `${JSON.stringify(line)} is not \`[user@]host[:port]\``
  const [, user, rawHost, rawPort] = m
  if (user !== undefined && !USER.test(user)) return `${JSON.stringify(line)}: the user ${JSON.stringify(user)} is not a plain user name`
  if (!HOST.test(rawHost!)) return `${JSON.stringify(line)}: ${JSON.stringify(rawHost)} is not a host name or address`
  const port = rawPort === undefined ? 22 : Number(rawPort)
  if (!(port >= 1 && port <= 65535)) return `${JSON.stringify(line)}: the port must be 1-65535`
  return { user: user ?? null, host: rawHost!.replace(/^\[(.*)\]$/, '$1'), port }
}

/** The names a known_hosts line must carry for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/

export interface KnownHostsLine {
  marker: '@cert-authority' | '@revoked' | null
  patterns: string[]
  keyType: string
  /** The line as OpenSSH will read it. */
  text: string
}

/** `ssh-known-hosts` as known_hosts lines; every line that is not one is a problem, said with the fix. */
export function parseKnownHosts(input: string): { lines: KnownHostsLine[]; problems: string[] } {
  const lines: KnownHostsLine[] = []
  const problems: string[] = []
  input.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.trim()
    if (text === '' || text.startsWith('#')) return
    const fields = text.split(/\s+/)
    const marker = fields[0] === '@cert-authority' || fields[0] === '@revoked' ? (fields.shift() as KnownHostsLine['marker']) : null
    const [patterns, keyType, key] = fields
    if (/^SHA256:|^MD5:|^([0-9a-f]{2}:){15}/i.test(text)) {
      problems.push(`line ${i + 1} is a key fingerprint, not a known_hosts line: give the lines \`ssh-keyscan -p PORT HOST\` prints (run it from a trusted machine and compare the fingerprint)`)
    } else if (!patterns || !keyType || !key || !KEY_TYPES.test(keyType) || !/^[A-Za-z0-9+/]+=*$/.test(key)) {
      problems.push(`line ${i + 1} is not a known_hosts line (\`host-pattern key-type base64-key\`, as \`ssh-keyscan -p PORT HOST\` prints it)`)
    } else lines.push({ marker, patterns: patterns.split(','), keyType, text })
  })
  return { lines, problems }
}

/** OpenSSH's `*`/`?` patterns. */
function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i')
  return re.test(name)
}

/** A hashed `|1|salt|hash` pattern: HMAC-SHA1 of the name keyed by the salt. */
function hashedMatches(pattern: string, name: string): boolean {
  const [, , salt, hash] = pattern.split('|')
  if (!salt || !hash) return false
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash
}

/** Whether some usable (not revoked) line names this host at this port. */
export function knownHostsCover(lines: readonly KnownHostsLine[], host: string, port: number): boolean {
  const name = knownHostsName(host, port)
  return lines.some((l) => {
    if (l.marker === '@revoked') return false
    let hit = false
    for (const p of l.patterns) {
      const negated = p.startsWith('!')
      const bare = negated ? p.slice(1) : p
      const matches = bare.startsWith('|1|') ? hashedMatches(bare, name) : globMatches(bare, name)
      if (matches && negated) return false
      if (matches) hit = true
    }
    return hit
  })
}

/** Where the runner keeps this run's ssh files (all under RUNNER_TEMP, removed by the post step). */
export interface SshFiles {
  config: string
  knownHosts: string
  /** The 0600 key file; null: the agent at SSH_AUTH_SOCK. */
  key: string | null
  /** The directory of the control sockets (short: a socket path has a ~104-byte limit). */
  controlDir: string
  /** Where the jump host's ssh writes its errors (ControlPersist would send them to /dev/null). */
  jumpErrors?: string
}

/** The config alias of `ssh-jump`. */
export const JUMP_ALIAS = 'psd-jump'

export interface SshHostEntry {
  alias: string
  address: SshAddress & { user: string }
}

/** A value in ssh_config: double-quoted; `%` doubled where ssh expands tokens. Refuses what cannot be quoted. */
function configValue(value: string, tokens: boolean): string {
  if (/["\n\r\0]/.test(value)) throw new Error(`an ssh config value cannot hold quotes or line breaks: ${JSON.stringify(value)}`)
  return `"${tokens ? value.replace(/%/g, '%%') : value}"`
}

/** How long a silent connection lives: ServerAliveInterval × ServerAliveCountMax. */
export const KEEPALIVE = { intervalSeconds: 5, countMax: 3 } as const

/**
 * The ProxyCommand that reaches a target through the jump host. Not ProxyJump: OpenSSH turns that
 * into `sh -c "exec ssh … -F <path> …"` without quoting the path, so a config path with a space or
 * `$(…)` breaks or runs on the runner. Here every word is quoted (and `%` doubled, as ssh expands
 * it), and the jump's errors go to a file the runner reads.
 */
export function jumpProxyCommand(ssh: string, files: SshFiles, target: SshAddress): string {
  const hostPort = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
  const words = [shQuote(ssh), '-F', shQuote(files.config), '-W', shQuote(hostPort), '--', JUMP_ALIAS]
  const line = `${words.join(' ')}${files.jumpErrors ? ` 2>>${shQuote(files.jumpErrors)}` : ''}`
  if (/[\n\r\0]/.test(line)) throw new Error(`an ssh config value cannot hold line breaks: ${JSON.stringify(line)}`)
  return line.replace(/%/g, '%%')
}

/** The generated `-F` config: one `Host` block per target (by alias), the jump host's, then the fixed options for all. */
export function sshConfigText(hosts: readonly SshHostEntry[], files: SshFiles, jump: SshAddress | null, ssh = 'ssh'): string {
  const out: string[] = ['# pm2-safe-deploy: generated for one job, removed by its post step']
  for (const h of hosts) {
    out.push(`Host ${h.alias}`, `  HostName ${h.address.host}`, `  Port ${h.address.port}`, `  User ${h.address.user}`)
    if (jump) out.push(`  ProxyCommand ${jumpProxyCommand(ssh, files, h.address)}`)
  }
  if (jump) {
    // Its own connection each time (no master whose errors ControlPersist hides), and no proxy of its own.
    out.push(`Host ${JUMP_ALIAS}`, `  HostName ${jump.host}`, `  Port ${jump.port}`, ...(jump.user ? [`  User ${jump.user}`] : []), '  ControlMaster no', '  ControlPath none', '  ProxyCommand none')
  }
  out.push(
    'Host *',
    '  BatchMode yes',
    '  StrictHostKeyChecking yes',
    `  UserKnownHostsFile ${configValue(files.knownHosts, true)}`,
    '  GlobalKnownHostsFile /dev/null',
    '  UpdateHostKeys no',
    '  CheckHostIP no',
    '  HashKnownHosts no',
    ...(files.key ? ['  IdentitiesOnly yes', `  IdentityFile ${configValue(files.key, true)}`, '  IdentityAgent none'] : ['  IdentitiesOnly no']),
    '  PasswordAuthentication no',
    '  KbdInteractiveAuthentication no',
    '  ForwardAgent no',
    '  ForwardX11 no',
    '  ClearAllForwardings yes',
    '  PermitLocalCommand no',
    '  RequestTTY no',
    `  ServerAliveInterval ${KEEPALIVE.intervalSeconds}`,
    `  ServerAliveCountMax ${KEEPALIVE.countMax}`,
    '  ConnectTimeout 15',
    '  ControlMaster auto',
    '  ControlPersist 300',
    `  ControlPath ${configValue(`${files.controlDir}/%C`, false)}`,
    '  LogLevel ERROR'
  )
  return out.join('\n') + '\n'
}

/** ssh's argv for one remote command (a string the remote shell parses: build it with shellCommand). */
export function sshArgv(configFile: string, alias: string, remoteCommand: string): string[] {
  return ['-F', configFile, '-T', '--', alias, remoteCommand]
}

/** ssh's argv to close a host's shared connection. */
export function sshExitArgv(configFile: string, alias: string): string[] {
  return ['-F', configFile, '-O', 'exit', '--', alias]
}

/** One word for a POSIX shell, whatever it holds. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** `/bin/sh -c <script> psd <args…>` as one string for the remote login shell (the session's PATH may have nothing): the script is fixed, the args are data. */
export function shellCommand(script: string, args: readonly string[] = []): string {
  return ['/bin/sh', '-c', script, 'pm2-safe-deploy', ...args].map(shQuote).join(' ')
}

export type SshFailure = 'host-key-unknown' | 'host-key-changed' | 'auth' | 'unreachable' | 'other'

/** What an exit 255 was, from ssh's stderr. */
export function classifySshFailure(stderr: string): SshFailure {
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) return 'host-key-changed'
  if (/Host key verification failed|No \S+ host key is known|host key is not known/i.test(stderr)) return 'host-key-unknown'
  if (/Permission denied|Too many authentication failures|no mutual signature|Authentication failed/i.test(stderr)) return 'auth'
  if (/Connection refused|Connection timed out|No route to host|Could not resolve|Network is unreachable|Connection closed|Connection reset|kex_exchange_identification|Broken pipe|timed out/i.test(stderr)) {
    return 'unreachable'
  }
  return 'other'
}

/** The message of a connection that did not work, naming the host and the fix. */
export function sshFailureMessage(kind: SshFailure, label: string, address: SshAddress & { user: string }, stderr: string): string {
  const scan = `\`ssh-keyscan -p ${address.port} ${address.host}\``
  const detail = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ')
  switch (kind) {
    case 'host-key-unknown':
      return `${label}: the host's key is not in ssh-known-hosts, so the connection was refused (host keys are always verified). Fix: run ${scan} from a trusted machine, check the fingerprint (\`ssh-keygen -lf -\`), and add the line to the ssh-known-hosts input.`
    case 'host-key-changed':
      return `${label}: the host's key does NOT match ssh-known-hosts: someone may be intercepting the connection, or the host was reinstalled. Nothing was sent. Fix: confirm the new key on the host itself (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`), then replace its line in ssh-known-hosts.`
    case 'auth':
      return `${label}: ${address.user} was refused (${detail}). Fix: put the public half of ssh-key in ~${address.user}/.ssh/authorized_keys on the host, or set ssh-user to the user who owns the PM2 daemon.`
    case 'unreachable':
      return `${label}: cannot connect to ${address.host} port ${address.port} (${detail}). Fix: check the host, the port and the firewall (and ssh-jump, if the host is behind one).`
    default:
      return `${label}: ssh failed (${detail || 'exit 255'}).`
  }
}

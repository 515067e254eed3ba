// The ssh argv and generated config (promise 12), the known_hosts handling, the remote inputs,
// and the relay of a host's log (promise 14): pure logic, no ssh.
import { createHmac, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import {
  classifySshFailure,
  knownHostsCover,
  parseKnownHosts,
  parseSshAddress,
  shellCommand,
  shQuote,
  sshArgv,
  sshConfigText,
  type SshFiles
} from '../../src/core/ssh.js'
import { relayedCommand, unescapeCommandValue } from '../../src/core/relay.js'
import { parseRemoteInputs } from '../../src/remote/inputs.js'

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFakeKeyFakeKeyFakeKeyFake'
const files: SshFiles = { config: '/rt/psd/config', knownHosts: '/rt/psd/known_hosts', key: '/rt/psd/id', controlDir: '/rt/psd/c' }

describe('ssh-host lines', () => {
  test('[user@]host[:port]', () => {
    expect(parseSshAddress('deploy@web1.example.com:2222')).toEqual({ user: 'deploy', host: 'web1.example.com', port: 2222 })
    expect(parseSshAddress('10.0.0.5')).toEqual({ user: null, host: '10.0.0.5', port: 22 })
    expect(parseSshAddress('[fe80::1]:22')).toEqual({ user: null, host: 'fe80::1', port: 22 })
  })
  test('nothing option-like, multi-word or out of range', () => {
    for (const bad of ['-oProxyCommand=x', 'a b', 'host:0', 'host:70000', 'us er@host', '@host', 'host;rm', 'ho$t', '']) expect(typeof parseSshAddress(bad), bad).toBe('string')
  })
})

describe('the generated config', () => {
  const hosts = [{ alias: 'psd-host-0', address: { user: 'deploy', host: 'web1', port: 2222 } }]
  test('host keys always checked, the key alone, keepalives, one shared connection', () => {
    const text = sshConfigText(hosts, files, null)
    for (const line of [
      'BatchMode yes',
      'StrictHostKeyChecking yes',
      'UserKnownHostsFile "/rt/psd/known_hosts"',
      'GlobalKnownHostsFile /dev/null',
      'IdentitiesOnly yes',
      'IdentityFile "/rt/psd/id"',
      'IdentityAgent none',
      'ServerAliveInterval 5',
      'ServerAliveCountMax 3',
      'ControlMaster auto',
      'ControlPath "/rt/psd/c/%C"',
      'HostName web1',
      'Port 2222',
      'User deploy'
    ]) {
      expect(text).toContain(`  ${line}\n`)
    }
    expect(text).not.toMatch(/StrictHostKeyChecking (no|accept-new)|ProxyJump/)
  })
  test('without a key: the agent, no IdentityFile', () => {
    const text = sshConfigText(hosts, { ...files, key: null }, null)
    expect(text).not.toMatch(/IdentityFile|IdentityAgent none/)
  })
  test('ssh-jump becomes a quoted ProxyCommand to the jump alias, whose errors go to a file (options on the command line do not reach the jump)', () => {
    const text = sshConfigText(hosts, { ...files, jumpErrors: '/rt/psd/jump-errors' }, { user: 'bastion', host: 'jump.example', port: 22 }, '/usr/bin/ssh')
    expect(text).toContain("  ProxyCommand /usr/bin/ssh -F /rt/psd/config -W web1:2222 -- psd-jump 2>>/rt/psd/jump-errors\n")
    expect(text).toContain('Host psd-jump\n  HostName jump.example\n  Port 22\n  User bastion\n  ControlMaster no\n  ControlPath none\n  ProxyCommand none\n')
    expect(text).not.toMatch(/ProxyJump/)
  })
  test('a config path with a space, quotes, `$(…)` or % stays one word for the jump (issue 23, point 5)', () => {
    const dir = "/run ner/t'mp/$(touch /tmp/psd-pwned)/50%"
    const text = sshConfigText(hosts, { ...files, config: `${dir}/config`, jumpErrors: `${dir}/jump-errors` }, { user: null, host: 'jump.example', port: 2200 }, '/usr/bin/ssh')
    const line = text.split('\n').find((l) => l.startsWith('  ProxyCommand '))!.slice('  ProxyCommand '.length)
    // ssh expands %% to %, then runs the line with sh -c "exec …": what sh sees is these words.
    const argv = execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${line.replace(/%%/g, '%').replace(/ 2>>.*$/, '')}`], { encoding: 'utf8' }).trimEnd().split('\n')
    expect(argv).toEqual(['/usr/bin/ssh', '-F', `${dir}/config`, '-W', 'web1:2222', '--', 'psd-jump'])
  })
  test('a % in a path is doubled (ssh expands tokens there); quotes or line breaks are refused', () => {
    expect(sshConfigText(hosts, { ...files, knownHosts: '/rt/50%/kh' }, null)).toContain('UserKnownHostsFile "/rt/50%%/kh"')
    expect(() => sshConfigText(hosts, { ...files, key: '/rt/a"b' }, null)).toThrow(/quotes or line breaks/)
  })
  test('ssh -G reads the config as written', () => {
    let out = ''
    try {
      out = execFileSync('ssh', ['-G', '-F', '/dev/stdin', 'psd-host-0'], { input: sshConfigText(hosts, files, null), encoding: 'utf8' })
    } catch {
      return // no ssh client here: the text checks above stand
    }
    expect(out).toMatch(/^stricthostkeychecking true$/m)
    expect(out).toMatch(/^batchmode yes$/m)
    expect(out).toMatch(/^globalknownhostsfile \/dev\/null$/m)
    expect(out).toMatch(/^port 2222$/m)
  })
  test('the argv: -F, no tty, the alias after --, the command last', () => {
    expect(sshArgv('/rt/psd/config', 'psd-host-0', 'true')).toEqual(['-F', '/rt/psd/config', '-T', '--', 'psd-host-0', 'true'])
  })
})

describe('the remote command is fixed; values are data', () => {
  test('shQuote makes any string one word for sh', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = execFileSync('/bin/sh', ['-c', `printf %s ${shQuote(s.replace(/\0/g, ''))}`], { encoding: 'utf8' })
        expect(out).toBe(s.replace(/\0/g, ''))
      }),
      { numRuns: 60 }
    )
  })
  test('shellCommand passes arguments as positional parameters', () => {
    const cmd = shellCommand('printf "%s|" "$@"', ["a b", "$(id)", "'; rm -rf ~ #"])
    expect(execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' })).toBe("a b|$(id)|'; rm -rf ~ #|")
  })
})

describe('ssh-known-hosts', () => {
  test('lines as ssh-keyscan prints them; a fingerprint or junk is refused with the fix', () => {
    const r = parseKnownHosts(`# comment\n[127.0.0.1]:2222 ssh-ed25519 ${KEY}\nweb1,10.0.0.5 ssh-rsa ${KEY}\nSHA256:abcdefabcdef\nnot a line\n`)
    expect(r.lines).toHaveLength(2)
    expect(r.problems).toHaveLength(2)
    expect(r.problems[0]).toMatch(/line 4 is a key fingerprint.*ssh-keyscan/)
    expect(r.problems[1]).toMatch(/line 5 is not a known_hosts line/)
  })
  test('a host is covered by its name, [name]:port, a pattern or a hashed entry; not by a revoked or negated one', () => {
    const salt = randomBytes(20)
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[db.example]:2200').digest('base64')}`
    const { lines } = parseKnownHosts([`web1 ssh-ed25519 ${KEY}`, `[127.0.0.1]:2222 ssh-ed25519 ${KEY}`, `*.internal,!bad.internal ssh-ed25519 ${KEY}`, `${hashed} ssh-ed25519 ${KEY}`, `@revoked old ssh-ed25519 ${KEY}`].join('\n'))
    expect(knownHostsCover(lines, 'web1', 22)).toBe(true)
    expect(knownHostsCover(lines, 'web1', 2222)).toBe(false)
    expect(knownHostsCover(lines, '127.0.0.1', 2222)).toBe(true)
    expect(knownHostsCover(lines, '127.0.0.1', 22)).toBe(false)
    expect(knownHostsCover(lines, 'a.internal', 22)).toBe(true)
    expect(knownHostsCover(lines, 'bad.internal', 22)).toBe(false)
    expect(knownHostsCover(lines, 'db.example', 2200)).toBe(true)
    expect(knownHostsCover(lines, 'old', 22)).toBe(false)
  })
  test('ssh failures are told apart from their stderr', () => {
    expect(classifySshFailure('@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@')).toBe('host-key-changed')
    expect(classifySshFailure('No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.')).toBe('host-key-unknown')
    expect(classifySshFailure('deploy@web1: Permission denied (publickey).')).toBe('auth')
    expect(classifySshFailure('ssh: connect to host web1 port 22: Connection refused')).toBe('unreachable')
  })
})

describe('the remote inputs', () => {
  const read = (over: Record<string, string>) => (name: string) => over[name] ?? ''
  const known = `[127.0.0.1]:2222 ssh-ed25519 ${KEY}`
  test('hosts, the default user, forwarded deploy inputs without the ssh ones', () => {
    const r = parseRemoteInputs(read({ 'ssh-host': 'a@127.0.0.1:2222\n127.0.0.1:2223\n', 'ssh-user': 'deploy', 'ssh-known-hosts': known, app: 'web', 'ssh-key': 'SECRET' }), () => 'runner')
    expect(r.hosts.map((h) => [h.label, h.user, h.port])).toEqual([
      ['a@127.0.0.1:2222', 'a', 2222],
      ['127.0.0.1:2223', 'deploy', 2223]
    ])
    expect(r.forwarded.app).toBe('web')
    expect(Object.keys(r.forwarded).filter((k) => k.startsWith('ssh-') || k === 'upload')).toEqual([])
    expect(JSON.stringify(r.forwarded)).not.toContain('SECRET')
  })
  test('no ssh-known-hosts, a bad host line, upload without release-dir: refused together, with the fix', () => {
    expect(() => parseRemoteInputs(read({ 'ssh-host': 'web1\n-oProxyCommand=x', upload: 'dist' }))).toThrow(
      /ssh-host: "-oProxyCommand=x"[\s\S]*ssh-known-hosts is required with ssh-host[\s\S]*upload needs release-dir/
    )
  })
})

describe('relaying a host log', () => {
  test('annotations and groups are re-issued, with their data unescaped', () => {
    expect(relayedCommand('::error title=Safety%3A abort,file=x::line one%0Aline two %25')).toEqual({ kind: 'error', message: 'line one\nline two %', properties: { title: 'Safety: abort', file: 'x' } })
    expect(relayedCommand('::group::Release switch')).toEqual({ kind: 'group', title: 'Release switch' })
    expect(relayedCommand('::endgroup::')).toEqual({ kind: 'endgroup' })
  })
  test('every other command is text', () => {
    for (const l of ['::set-output name=result::deployed', '::add-mask::x', '::stop-commands::tok', '::save-state name=a::b', '::debug::x', '::echo::on', ' ::error::indented', '⟩ ::error::marked']) {
      expect(relayedCommand(l), l).toBeNull()
    }
  })
  test('unescape undoes what @actions/core escapes', () => {
    expect(unescapeCommandValue('%25%0D%0A%3A%2C')).toBe('%\r\n:,')
  })
})

describe('the framed stream of the host agent', () => {
  test('log bytes, the start answer and the result survive any chunking; the log offset counts log bytes only', async () => {
    const { FrameReader } = await import('../../src/remote/protocol.js')
    const start = { runDir: '/h/.cache/pm2-safe-deploy/runs/x', node: '/usr/bin/node', pm2: null, supervisor: 1 }
    const result = { done: true, main: { code: 0, signal: null }, outputs: { result: 'deployed' }, summary: 'ök', releaseSwitch: null, commandsStarted: 1, release: null }
    const log = Buffer.from('::group::Deploy\nünïcode line\n')
    const frame = (k: string, b: Buffer) => Buffer.concat([Buffer.from(`${k}${b.length}\n`), b])
    const all = Buffer.concat([frame('S', Buffer.from(JSON.stringify(start))), frame('L', log.subarray(0, 7)), frame('L', log.subarray(7)), frame('R', Buffer.from(JSON.stringify(result)))])
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: all.length }), { maxLength: 8 }), (cuts) => {
        const got = { start: null as unknown, log: [] as Buffer[], result: null as unknown }
        const r = new FrameReader({ start: (a) => (got.start = a), log: (b) => got.log.push(b), result: (x) => (got.result = x) })
        let at = 0
        for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
          r.feed(all.subarray(at, c))
          at = c
        }
        r.feed(all.subarray(at))
        expect(got.start).toEqual(start)
        expect(Buffer.concat(got.log).equals(log)).toBe(true)
        expect(got.result).toEqual(result)
      })
    )
  })
  test('anything that is not a frame is refused, not relayed', async () => {
    const { FrameReader } = await import('../../src/remote/protocol.js')
    const r = new FrameReader({ start: () => undefined, log: () => undefined, result: () => undefined })
    expect(() => r.feed(Buffer.from('::set-output name=result::deployed\n'))).toThrow(/unexpected data from the host agent/)
  })
})

// The fleet orchestration (promise 13) over a fake HostDeployer: which hosts it contacts, in
// which order and with which purpose, and what it says when a host fails, is unreachable or
// the job is cancelled. The real hosts over sshd are in __tests__/fleet.test.ts.
import { describe, expect, test } from 'vitest'
import type { DeployResult } from '../../src/core/report-schema.js'
import { rollOut } from '../../src/remote/fleet.js'
import type { HostDeployer, HostOutcome, HostPurpose, HostSpec } from '../../src/remote/host.js'
import type { HostLog } from '../../src/remote/relay.js'

const spec = (i: number): HostSpec => ({ label: `deploy@web-${i}:22`, user: 'deploy', host: `web-${i}`, port: 22 })
const HOSTS = [1, 2, 3].map(spec)
const NEW = '/srv/app/releases/new'
const OLD = (h: HostSpec) => `/srv/app/releases/old-${h.host}`

type Script = (host: HostSpec, purpose: HostPurpose) => Partial<Omit<HostOutcome, 'outputs' | 'summary'>> & { result: DeployResult }

/** A fake fleet: every host starts on its own old release; `script` says how each run ends. */
function fakeDeployer(script: Script, onDeploy?: (host: HostSpec, purpose: HostPurpose) => void) {
  const calls: { host: string; purpose: HostPurpose }[] = []
  const deployer: HostDeployer = {
    async deploy(host, purpose) {
      calls.push({ host: host.host, purpose })
      onDeploy?.(host, purpose)
      const s = script(host, purpose)
      const back = purpose.kind === 'fleet-rollback'
      const deployed = s.result === 'deployed'
      return {
        host,
        reached: true,
        switched: deployed,
        release: back ? (deployed ? purpose.release : NEW) : deployed || s.result === 'failed' ? NEW : OLD(host),
        previous: back ? NEW : OLD(host),
        report: `/home/deploy/.pm2/pm2-safe-deploy/runs/${host.host}-${calls.length}/report.json`,
        message: `${host.host} ${s.result}`,
        ms: 10,
        outputs: {},
        summary: `summary of ${host.host}`,
        ...s
      }
    }
  }
  return { deployer, calls }
}

async function fleet(script: Script, opts: { rollbackAcross?: boolean; onDeploy?: (host: HostSpec, purpose: HostPurpose) => void; cancel?: AbortController } = {}) {
  const { deployer, calls } = fakeDeployer(script, opts.onDeploy)
  const said: string[] = []
  let clock = 0
  const end = await rollOut({
    hosts: HOSTS,
    rollbackAcross: opts.rollbackAcross ?? true,
    deployerFor: () => deployer,
    cancel: (opts.cancel ?? new AbortController()).signal,
    say: (l) => said.push(l),
    now: () => (clock += 1000)
  })
  return { end, calls, said }
}

const deployAll: Script = () => ({ result: 'deployed' })

describe('a fleet over a HostDeployer', () => {
  test('three hosts deployed, one at a time, in order', async () => {
    const { end, calls } = await fleet(deployAll)
    expect(calls.map((c) => [c.host, c.purpose.kind])).toEqual([
      ['web-1', 'deploy'],
      ['web-2', 'deploy'],
      ['web-3', 'deploy']
    ])
    expect(end.verdict.result).toBe('deployed')
    expect(end.rollbackMs).toBeNull()
  })

  test('the second host rolls itself back: the first is deployed again to its previous release, the third is never contacted', async () => {
    const { end, calls, said } = await fleet((h, p) => ({ result: h.host === 'web-2' && p.kind === 'deploy' ? 'rolled-back' : 'deployed' }))
    expect(calls.map((c) => c.host)).toEqual(['web-1', 'web-2', 'web-1'])
    const back = calls[2]!.purpose
    expect(back).toMatchObject({ kind: 'fleet-rollback', release: OLD(HOSTS[0]!) })
    expect(back.kind === 'fleet-rollback' && back.reason).toMatch(/host deploy@web-2:22 ended rolled-back/)
    expect(end.verdict.result).toBe('rolled-back')
    expect(end.verdict.hosts.map((h) => h.state)).toEqual(['previous', 'previous', 'not-contacted'])
    expect(end.verdict.hosts[0]!.reports).toHaveLength(2)
    expect(end.rollbackMs).toBeGreaterThan(0)
    expect(said.some((l) => l.startsWith('── fleet rollback of deploy@web-1:22'))).toBe(true)
  })

  test('the first host unreachable at the start: aborted, no other host contacted', async () => {
    const { end, calls } = await fleet(() => ({ result: 'aborted', reached: false, switched: false, release: null, previous: null, report: null, message: 'ssh: connect to host web-1 port 22: Connection refused' }))
    expect(calls.map((c) => c.host)).toEqual(['web-1'])
    expect(end.verdict.result).toBe('aborted')
    expect(end.verdict.message).toMatch(/Nothing changed on any host/)
  })

  test('the second host unreachable for its rollback: the first still goes back, the fleet fails naming the second', async () => {
    const { end, calls } = await fleet((h, p) => {
      if (h.host === 'web-3') return { result: 'rolled-back' }
      if (h.host === 'web-2' && p.kind === 'fleet-rollback') return { result: 'aborted', reached: false, release: null, previous: null, report: null, message: 'unreachable' }
      return { result: 'deployed' }
    })
    expect(calls.map((c) => `${c.host}:${c.purpose.kind}`)).toEqual(['web-1:deploy', 'web-2:deploy', 'web-3:deploy', 'web-2:fleet-rollback', 'web-1:fleet-rollback'])
    expect(end.verdict.result).toBe('failed')
    expect(end.verdict.message).toContain(`deploy@web-2:22: unreachable for its rollback (runs ${NEW})`)
    expect(end.verdict.hosts[1]).toMatchObject({ result: 'failed', release: NEW, previous: OLD(HOSTS[1]!) })
  })

  test('cancel during the second host: it finishes, the third is not contacted, nothing goes back, and the log says so', async () => {
    const cancel = new AbortController()
    const { end, calls, said } = await fleet(deployAll, { cancel, onDeploy: (h) => h.host === 'web-2' && cancel.abort() })
    expect(calls.map((c) => c.host)).toEqual(['web-1', 'web-2'])
    expect(end.verdict.result).toBe('failed')
    expect(end.verdict.title).toBe('Fleet deploy cancelled')
    expect(end.verdict.message).toMatch(/^Cancelled during deploy@web-2:22/)
    expect(said.at(-1)).toMatch(/Cancelled during deploy@web-2:22: the batch under way finished or stopped before its switch; 1 host\(s\) after it not contacted/)
  })

  test('cancelled before the first host ends with it aborted: nothing changed', async () => {
    const cancel = new AbortController()
    const { end, calls } = await fleet(() => ({ result: 'aborted', switched: false }), { cancel, onDeploy: () => cancel.abort() })
    expect(calls).toHaveLength(1)
    expect(end.verdict.result).toBe('aborted')
  })

  test('rollback-hosts off: the hosts before the failure keep the new release, and the fleet fails', async () => {
    const { end, calls } = await fleet((h) => ({ result: h.host === 'web-2' ? 'rolled-back' : 'deployed' }), { rollbackAcross: false })
    expect(calls.map((c) => c.purpose.kind)).toEqual(['deploy', 'deploy'])
    expect(end.verdict.result).toBe('failed')
  })

  test('a deployer that throws still leaves every host named', async () => {
    const { deployer } = fakeDeployer(deployAll)
    const throwing: HostDeployer = { deploy: (h, p) => (h.host === 'web-2' ? Promise.reject(new Error('boom')) : deployer.deploy(h, p)) }
    const end = await rollOut({ hosts: HOSTS, rollbackAcross: true, deployerFor: () => throwing, cancel: new AbortController().signal, say: () => {} })
    expect(end.verdict.hosts.map((h) => h.state)).toEqual(['previous', 'failed', 'not-contacted'])
    expect(end.verdict.result).toBe('failed')
    expect(end.verdict.message).toMatch(/unexpected error while deploying to deploy@web-2:22: boom/)
  })
})

describe('a fleet in batches over fake deployers', () => {
  const FOUR = [1, 2, 3, 4].map(spec)
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

  /** One fake deployer per host's run: each run takes `ms`; cancel() before `switchAt` stops it (aborted). */
  function fakeFleet(outcome: (h: HostSpec, p: HostPurpose) => DeployResult, timing: (h: HostSpec) => number = () => 20, phases: (h: HostSpec, log: HostLog) => void = () => {}) {
    const events: string[] = []
    const cancelled: string[] = []
    const deployerFor = (host: HostSpec, log: HostLog | null = null): HostDeployer => {
      let stop: (() => void) | null = null
      return {
        async deploy(h, purpose) {
          events.push(`start ${h.host} ${purpose.kind}${purpose.kind === 'deploy' && purpose.skipMigrate ? ' skip-migrate' : ''}`)
          if (log) phases(h, log)
          const halted = await Promise.race([sleep(timing(h)).then(() => false), new Promise<boolean>((r) => (stop = () => r(true)))])
          const result: DeployResult = halted ? 'aborted' : outcome(h, purpose)
          events.push(`end ${h.host} ${purpose.kind} ${result}`)
          const back = purpose.kind === 'fleet-rollback'
          return { host: h, result, reached: true, switched: result === 'deployed', release: back ? purpose.release : result === 'deployed' ? NEW : OLD(h), previous: back ? NEW : OLD(h), report: null, message: `${h.host} ${result}`, ms: 5, outputs: {}, summary: '' }
        },
        async cancel() {
          cancelled.push(host.host)
          stop?.()
          return `${host.label}: cancelled before the release switch`
        }
      }
    }
    return { events, cancelled, deployerFor }
  }

  const run = (f: ReturnType<typeof fakeFleet>, sizes: number[], cancel = new AbortController(), migrate = false) => {
    const said: string[] = []
    let at = 0
    const batches = sizes.map((n) => FOUR.slice((at += n) - n, at))
    return rollOut({ hosts: FOUR, batches, migrate, rollbackAcross: true, deployerFor: (h, log) => f.deployerFor(h, log), cancel: cancel.signal, say: (l) => said.push(l) }).then((end) => ({ end, said }))
  }

  test('1, 100%: the canary ends before the others start, and the others run at once', async () => {
    const f = fakeFleet(() => 'deployed')
    const { end, said } = await run(f, [1, 3])
    expect(f.events.slice(0, 2)).toEqual(['start web-1 deploy', 'end web-1 deploy deployed'])
    expect(f.events.slice(2, 5).every((e) => e.startsWith('start '))).toBe(true)
    expect(end.verdict.result).toBe('deployed')
    expect(end.verdict.hosts.map((h) => h.batch)).toEqual([1, 2, 2, 2])
    expect(said.some((l) => l.startsWith('── batch 2: deploy@web-2:22, deploy@web-3:22, deploy@web-4:22 (3 of 4 host(s), at once'))).toBe(true)
  })

  test('a failure in the second batch stops the others of that batch before their switch, then every switched host goes back, latest batch first', async () => {
    const f = fakeFleet((h, p) => (h.host === 'web-2' && p.kind === 'deploy' ? 'failed' : 'deployed'), (h) => (h.host === 'web-2' ? 5 : h.host === 'web-4' ? 10 : 200))
    const { end } = await run(f, [1, 2, 1])
    // web-4 is in the third batch: never contacted; web-3 was stopped before its switch.
    expect(f.events.some((e) => e.includes('web-4'))).toBe(false)
    expect(f.cancelled).toEqual(['web-3'])
    expect(f.events).toContain('end web-3 deploy aborted')
    expect(f.events.filter((e) => e.includes('fleet-rollback'))).toEqual(['start web-1 fleet-rollback', 'end web-1 fleet-rollback deployed'])
    expect(end.verdict.result).toBe('failed')
    const why = Object.fromEntries(end.verdict.hosts.map((h) => [h.label, h.why]))
    expect(why['deploy@web-1:22']).toBe('sent back because deploy@web-2:22 failed')
    expect(why['deploy@web-2:22']).toMatch(/^failed here/)
    expect(why['deploy@web-3:22']).toBe('stopped before its switch because deploy@web-2:22 of its batch failed')
    expect(why['deploy@web-4:22']).toMatch(/^never contacted: the rollout stopped in batch 2/)
  })

  test("a host beginning its own rollback stops the others of its batch at once, before its own outcome", async () => {
    // web-2 fails its verification at once, then takes 150 ms to roll itself back; web-3 would switch after 100 ms.
    const f = fakeFleet(
      (h, p) => (h.host === 'web-2' && p.kind === 'deploy' ? 'rolled-back' : 'deployed'),
      (h) => (h.host === 'web-2' ? 150 : h.host === 'web-3' ? 100 : 5),
      (h, log) => h.host === 'web-2' && setTimeout(() => log.group('Rollback'), 10)
    )
    const { end, said } = await run(f, [1, 2, 1])
    expect(f.cancelled).toEqual(['web-3'])
    expect(f.events.indexOf('end web-3 deploy aborted')).toBeLessThan(f.events.indexOf('end web-2 deploy rolled-back'))
    expect(said).toContain('deploy@web-2:22: Rollback')
    expect(said.some((l) => l.startsWith('deploy@web-2:22 failed its verification and began its own rollback, so the other hosts of batch 2 stop before their switch'))).toBe(true)
    expect(end.verdict.hosts.map((h) => h.state)).toEqual(['previous', 'previous', 'unchanged', 'not-contacted'])
  })

  test('the switched hosts of a batch go back at once', async () => {
    const f = fakeFleet((h, p) => (h.host === 'web-4' && p.kind === 'deploy' ? 'rolled-back' : 'deployed'))
    const { end } = await run(f, [1, 2, 1])
    const back = f.events.filter((e) => e.includes('fleet-rollback'))
    // Batch 2 (web-2, web-3) starts both rollbacks before either ends; then batch 1 (web-1).
    expect(back.slice(0, 2).every((e) => e.startsWith('start '))).toBe(true)
    expect(back.slice(0, 2).map((e) => e.split(' ')[1]).sort()).toEqual(['web-2', 'web-3'])
    expect(back.at(-1)).toBe('end web-1 fleet-rollback deployed')
    expect(end.verdict.result).toBe('rolled-back')
  })

  test('a canary failure contacts no other host', async () => {
    const f = fakeFleet(() => 'rolled-back')
    const { end } = await run(f, [1, 3])
    expect(f.events).toEqual(['start web-1 deploy', 'end web-1 deploy rolled-back'])
    expect(end.verdict.result).toBe('rolled-back')
  })

  test('a cancel during the second batch: its hosts are cancelled, no later batch starts, nothing goes back', async () => {
    const cancel = new AbortController()
    const f = fakeFleet(() => 'deployed', (h) => (h.host === 'web-1' ? 5 : 300))
    const pending = run(f, [1, 2, 1], cancel)
    await sleep(60)
    cancel.abort()
    const { end, said } = await pending
    expect(f.cancelled.sort()).toEqual(['web-2', 'web-3'])
    expect(f.events.some((e) => e.includes('web-4') || e.includes('fleet-rollback'))).toBe(false)
    expect(end.verdict.title).toBe('Fleet deploy cancelled')
    expect(said.at(-1)).toMatch(/^Cancelled during deploy@web-2:22, deploy@web-3:22/)
  })

  test('migrate with a first batch of two: web-1 alone first, and every other host skips migrate', async () => {
    const f = fakeFleet(() => 'deployed')
    const { said } = await run(f, [2, 2], new AbortController(), true)
    expect(f.events.slice(0, 2)).toEqual(['start web-1 deploy', 'end web-1 deploy deployed'])
    expect(f.events.filter((e) => e.startsWith('start')).slice(1).every((e) => e.endsWith('skip-migrate'))).toBe(true)
    expect(said.some((l) => /deploys alone first: `migrate` runs on the first host only/.test(l))).toBe(true)
  })
})

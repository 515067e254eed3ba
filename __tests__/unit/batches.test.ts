// Promise 13 in batches: `hosts-per-batch` parsed (properties), the waves a fleet deploys in,
// `migrate` on the first host only, and the batch plan over any sizes and failure pattern.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { batchesOf, hostsOf, parseHostsPerBatch, wavesOf, type BatchSize } from '../../src/core/batches.js'
import type { DeployResult } from '../../src/core/report-schema.js'
import { nextStep, rolloutVerdict, type HostEnd, type RolloutInput, type RolloutRecord } from '../../src/core/rollout.js'
import { parseRemoteInputs } from '../../src/remote/inputs.js'

type Host = { label: string }
const hosts = (n: number): Host[] => Array.from({ length: n }, (_, i) => ({ label: `web-${i + 1}` }))
const sizesOf = (text: string): BatchSize[] => {
  const r = parseHostsPerBatch(text)
  if ('problem' in r) throw new Error(r.problem)
  return r.sizes
}
const shape = (text: string, n: number) => batchesOf(hosts(n), sizesOf(text)).map((b) => b.length)

describe('hosts-per-batch', () => {
  test('the default and the usual lists', () => {
    expect(shape('', 4)).toEqual([1, 1, 1, 1])
    expect(shape('1', 4)).toEqual([1, 1, 1, 1])
    expect(shape('1, 100%', 4)).toEqual([1, 3])
    expect(shape('2', 5)).toEqual([2, 2, 1])
    expect(shape('1, 25%', 12)).toEqual([1, 3, 3, 3, 2])
    expect(shape('1,5,20%', 20)).toEqual([1, 5, 4, 4, 4, 2])
    expect(shape('10%', 3)).toEqual([1, 1, 1])
    expect(shape('33.4%', 3)).toEqual([2, 1])
    expect(shape('1\n100%', 3)).toEqual([1, 2])
  })

  test('a malformed item is named', () => {
    for (const bad of ['0', 'two', '1, 0%', '150%', '-1', '1.5', '1;2', '%', '1, abc']) {
      const r = parseHostsPerBatch(bad)
      expect('problem' in r, bad).toBe(true)
      if ('problem' in r) expect(r.problem).toMatch(/^hosts-per-batch: "[^"]+" is not a batch size/)
    }
    const r = parseHostsPerBatch('1, 25 %x')
    expect('problem' in r && r.problem).toContain('"25 %x"')
  })

  const arbSize = fc.oneof(fc.integer({ min: 1, max: 50 }).map(String), fc.integer({ min: 1, max: 100 }).map((p) => `${p}%`))
  const arbList = fc.array(arbSize, { minLength: 1, maxLength: 5 })

  test('property: every host in exactly one batch, in order; every batch at least 1; sizes as given, the last repeating', () => {
    fc.assert(
      fc.property(arbList, fc.integer({ min: 1, max: 40 }), (list, n) => {
        const sizes = sizesOf(list.join(', '))
        const batches = batchesOf(hosts(n), sizes)
        expect(batches.flat()).toEqual(hosts(n))
        batches.forEach((b, i) => {
          expect(b.length).toBeGreaterThanOrEqual(1)
          const want = hostsOf(sizes[Math.min(i, sizes.length - 1)]!, n)
          // Only the last batch may be short: what is left.
          if (i < batches.length - 1) expect(b.length).toBe(want)
          else expect(b.length).toBeLessThanOrEqual(want)
        })
      })
    )
  })

  test('property: a percentage is rounded up, at least 1, at most all the hosts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 200 }), (p, n) => {
        const k = hostsOf({ kind: 'percent', p }, n)
        expect(k).toBeGreaterThanOrEqual(1)
        expect(k).toBeLessThanOrEqual(n)
        expect(k).toBeGreaterThanOrEqual((p * n) / 100)
        expect(k - 1).toBeLessThan(Math.max(1, (p * n) / 100))
      })
    )
  })

  test('property: whatever is not a positive count or a percentage in (0, 100] is refused, naming the item', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (item) => {
        const t = item.trim()
        if (t === '' || /[,\n]/.test(t)) return
        const ok = (/^\d+$/.test(t) && Number(t) >= 1) || (/^\d+(\.\d+)?\s*%$/.test(t) && Number(t.replace('%', '')) > 0 && Number(t.replace('%', '')) <= 100)
        const r = parseHostsPerBatch(`1, ${item}`)
        expect('sizes' in r).toBe(ok)
        if ('problem' in r) expect(r.problem).toContain(JSON.stringify(t))
      })
    )
  })
})

describe('migrate on a fleet', () => {
  test('with migrate, a first batch of several starts with its first host alone, and says why', () => {
    const waves = wavesOf(batchesOf(hosts(4), sizesOf('2, 100%')), true)
    expect(waves.map((w) => [w.batch, w.hosts.map((h) => h.label)])).toEqual([
      [1, ['web-1']],
      [1, ['web-2']],
      [2, ['web-3', 'web-4']]
    ])
    expect(waves[0]!.note).toMatch(/web-1 deploys alone first: `migrate` runs on the first host only/)
  })

  test('without migrate, or a first batch of one, the batches are the waves', () => {
    expect(wavesOf(batchesOf(hosts(4), sizesOf('2')), false).map((w) => w.hosts.length)).toEqual([2, 2])
    expect(wavesOf(batchesOf(hosts(4), sizesOf('1, 100%')), true).map((w) => w.hosts.length)).toEqual([1, 3])
  })

  test('every host but the first is told to skip migrate, in every batch size', () => {
    for (const list of ['1', '2', '1, 100%', '100%']) {
      const input: RolloutInput<Host> = { hosts: hosts(4), rollbackAcross: true, batches: batchesOf(hosts(4), sizesOf(list)), migrate: true }
      const record: RolloutRecord = { deploys: [], rollbacks: [], cancelled: null }
      const seen: [string, boolean][] = []
      for (let step = nextStep(input, record); step.kind === 'deploy'; step = nextStep(input, record)) {
        // The first host runs alone: no other host has started when migrate runs.
        if (seen.length === 0) expect(step.hosts.map((h) => h.host.label)).toEqual(['web-1'])
        for (const { host, skipMigrate } of step.hosts) {
          seen.push([host.label, skipMigrate])
          record.deploys.push(end(host, 'deployed'))
        }
      }
      expect(seen, list).toEqual([
        ['web-1', false],
        ['web-2', true],
        ['web-3', true],
        ['web-4', true]
      ])
    }
  })
})

// ---------------------------------------------------------------------------------
// The plan in batches, over any sizes and failure pattern
// ---------------------------------------------------------------------------------

const REL = (label: string) => `/srv/app/releases/new-${label}`
const OLD = (label: string) => `/srv/app/releases/old-${label}`

function end(host: Host, result: DeployResult, over: Partial<HostEnd> = {}): HostEnd {
  return { host, result, reached: true, switched: result === 'deployed' || result === 'failed', release: result === 'aborted' || result === 'rolled-back' ? OLD(host.label) : REL(host.label), previous: OLD(host.label), report: null, message: `${host.label} ${result}`, ms: 1000, ...over }
}

const RESULTS: DeployResult[] = ['deployed', 'deployed', 'deployed', 'aborted', 'failed', 'rolled-back']
const arbPlan = fc.record({
  n: fc.integer({ min: 1, max: 9 }),
  sizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 4 }).map(String), fc.integer({ min: 10, max: 100 }).map((p) => `${p}%`)), { minLength: 1, maxLength: 3 }),
  migrate: fc.boolean(),
  rollbackAcross: fc.boolean(),
  deploys: fc.array(fc.record({ result: fc.constantFrom(...RESULTS), switched: fc.boolean(), hasPrevious: fc.boolean() }), { minLength: 9, maxLength: 9 }),
  rollbacks: fc.array(fc.constantFrom<DeployResult>('deployed', 'deployed', 'failed', 'aborted'), { minLength: 9, maxLength: 9 }),
  cancelAfterWave: fc.integer({ min: -1, max: 9 })
})

function simulate(f: typeof arbPlan extends fc.Arbitrary<infer T> ? T : never) {
  const all = hosts(f.n)
  const batches = batchesOf(all, sizesOf(f.sizes.join(', ')))
  const input: RolloutInput<Host> = { hosts: all, rollbackAcross: f.rollbackAcross, batches, migrate: f.migrate }
  const record: RolloutRecord = { deploys: [], rollbacks: [], cancelled: null }
  const idx = (h: Host) => Number(h.label.slice(4)) - 1
  const waves: { kind: string; batch: number; labels: string[] }[] = []
  for (let guard = 0; guard < 50; guard++) {
    const step = nextStep(input, record)
    if (step.kind === 'done') break
    waves.push({ kind: step.kind, batch: step.batch, labels: step.hosts.map((h) => h.host.label) })
    if (step.kind === 'deploy') {
      for (const { host } of step.hosts) {
        const d = f.deploys[idx(host)]!
        record.deploys.push(end(host, d.result, { switched: d.result === 'deployed' || d.result === 'failed' ? d.switched : false, previous: d.hasPrevious || d.result === 'rolled-back' ? OLD(host.label) : null }))
      }
      if (waves.filter((w) => w.kind === 'deploy').length - 1 === f.cancelAfterWave) record.cancelled = { during: step.hosts.map((h) => h.host.label).join(', ') }
    } else {
      for (const { host, release } of step.hosts) {
        const r = f.rollbacks[idx(host)]!
        record.rollbacks.push(r === 'deployed' ? end(host, 'deployed', { release, previous: REL(host.label) }) : end(host, r, { reached: r !== 'aborted', release: r === 'aborted' ? null : REL(host.label) }))
      }
    }
  }
  return { input, record, waves, batches }
}

describe('the plan in batches, properties', () => {
  test('no host of a later batch is contacted after a failure; batches are deployed whole, in order', () => {
    fc.assert(
      fc.property(arbPlan, (f) => {
        const { record, waves, batches } = simulate(f)
        const deployWaves = waves.filter((w) => w.kind === 'deploy')
        const failedAt = deployWaves.findIndex((w) => w.labels.some((l) => record.deploys.find((o) => o.host.label === l)!.result !== 'deployed'))
        if (failedAt >= 0) expect(deployWaves).toHaveLength(failedAt + 1)
        else if (!record.cancelled) expect(record.deploys).toHaveLength(f.n)
        // Every wave lies within one batch, and the waves follow the host order.
        expect(deployWaves.flatMap((w) => w.labels)).toEqual(hosts(f.n).slice(0, record.deploys.length).map((h) => h.label))
        for (const w of deployWaves) expect(batches[w.batch - 1]!.map((h) => h.label)).toEqual(expect.arrayContaining(w.labels))
        // With migrate, the first host deploys alone.
        if (f.migrate) expect(deployWaves[0]!.labels).toEqual(['web-1'])
      })
    )
  })

  test('every switched host goes back exactly once, latest batch first, a batch at once; no other host does', () => {
    fc.assert(
      fc.property(arbPlan, (f) => {
        const { record, waves } = simulate(f)
        const stopped = record.deploys.some((o) => o.result !== 'deployed')
        const switched = record.deploys.filter((o) => o.result === 'deployed' && o.switched && o.previous !== null).map((o) => o.host.label)
        const back = waves.filter((w) => w.kind === 'rollback')
        const went = back.flatMap((w) => w.labels)
        if (f.rollbackAcross && stopped && !record.cancelled) expect([...went].sort()).toEqual([...switched].sort())
        else expect(went).toEqual([])
        expect(new Set(went).size).toBe(went.length)
        const order = back.map((w) => w.batch)
        expect(order).toEqual([...order].sort((a, b) => b - a))
        expect(new Set(order).size).toBe(order.length)
      })
    )
  })

  test("the result follows SPEC's rules for any sizes and failures", () => {
    fc.assert(
      fc.property(arbPlan, (f) => {
        const { input, record } = simulate(f)
        const v = rolloutVerdict(input, record)
        const changed = v.hosts.filter((h) => h.state !== 'not-contacted' && h.state !== 'unchanged')
        if (v.hosts.every((h) => h.result === 'deployed')) expect(v.result).toBe('deployed')
        else if (changed.length === 0) expect(v.result).toBe('aborted')
        else if (changed.every((h) => h.state === 'previous')) expect(v.result).toBe('rolled-back')
        else expect(v.result).toBe('failed')
        for (const h of v.hosts) {
          expect(h.batch).toBeGreaterThanOrEqual(1)
          expect(h.why).not.toBe('')
          if (h.state === 'not-contacted') expect(h.why).toMatch(/^never contacted/)
        }
        const stop = record.deploys.find((o) => o.result !== 'deployed')
        // A host that ended aborted in the batch a cancel stopped is not a failure of its own: no cause then.
        if (stop && v.result !== 'deployed' && !(record.cancelled && stop.result === 'aborted')) {
          expect(v.cause?.host).toBe(stop.host.label)
          expect(v.hosts.find((h) => h.label === stop.host.label)!.why).toMatch(/^failed here/)
        }
      })
    )
  })
})

describe('hosts-per-batch as a remote input', () => {
  const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFakeKeyFakeKeyFakeKeyFake'
  const read = (over: Record<string, string>) => (name: string) => over[name] ?? ''
  const base = { 'ssh-host': 'h1\nh2\nh3\nh4', 'ssh-known-hosts': `h1,h2,h3,h4 ssh-ed25519 ${KEY}` }
  test('parsed into the batches of the hosts; the default is one at a time; never forwarded to a host', () => {
    expect(parseRemoteInputs(read(base), () => 'runner').batches.map((b) => b.map((h) => h.label))).toEqual([['h1'], ['h2'], ['h3'], ['h4']])
    const r = parseRemoteInputs(read({ ...base, 'hosts-per-batch': '1, 100%' }), () => 'runner')
    expect(r.batches.map((b) => b.map((h) => h.label))).toEqual([['h1'], ['h2', 'h3', 'h4']])
    expect(r.forwarded['hosts-per-batch']).toBeUndefined()
  })
  test('a malformed list is an input error naming the item', () => {
    expect(() => parseRemoteInputs(read({ ...base, 'hosts-per-batch': '1, 0%' }), () => 'runner')).toThrow(/Invalid inputs:\n- hosts-per-batch: "0%" is not a batch size/)
  })
})

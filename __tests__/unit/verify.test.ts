// verify.ts without a daemon: a scripted process list, a fake clock that sleep() moves.
import { describe, expect, test } from 'vitest'
import type { ProcessRecord } from '../../src/core/process-record.js'
import { assessOwn, changedSince, verifyOwnHealthy, type VerifyOptions } from '../../src/core/verify.js'
import { processRecord } from '../helpers/process-record.js'

const proc = (o: Partial<ProcessRecord> & Pick<ProcessRecord, 'name' | 'pmId'>): ProcessRecord =>
  processRecord({ script: '/srv/app/server.js', cwd: '/srv/app', ...o })

/** Runs verify over `frames` (the list at t = 0, 0.5 s, 1 s, …; the last one repeats). */
async function verifyFrames(frames: ProcessRecord[][], over: Partial<VerifyOptions> = {}) {
  let t = 0
  let polls = 0
  const verdict = await verifyOwnHealthy({
    ownNames: ['api-test'],
    expectedCounts: new Map([['api-test', 1]]),
    stableSeconds: 5,
    timeoutSeconds: 60,
    healthUrls: [],
    pollMs: 500,
    fetchStatus: async () => 200,
    list: async () => frames[Math.min(polls++, frames.length - 1)]!,
    now: () => t,
    sleep: async (ms) => {
      t += ms
    },
    ...over
  })
  return { verdict, polls, t }
}

const api = (o: Partial<ProcessRecord> = {}) => proc({ name: 'api-test', pmId: 3, ...o })
const neighbour = proc({ name: 'stock-alert-api', pmId: 0, status: 'errored' })

describe('verifyOwnHealthy', () => {
  test('passes once every own process stays online with the same pid for stable-seconds', async () => {
    const { verdict, t } = await verifyFrames([[neighbour, api()]])
    expect(verdict.ok).toBe(true)
    expect(verdict.reason).toMatch(/stable for 5\.0 s/)
    expect(t).toBe(5000)
  })

  test('a crash loop fails at its first restart, not at the timeout', async () => {
    // Online at every look; the pid and restart count move at t = 2 s.
    const frames = [[api()], [api()], [api()], [api()], [api({ pid: 2001, restarts: 1 })]]
    const { verdict, t, polls } = await verifyFrames(frames, { timeoutSeconds: 120 })
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/^crash loop: api-test \(pm_id 3\) restarted 2\.0 s after coming up/)
    expect(verdict.reason).toMatch(/pid 1003 → 2001, restarts 0 → 1/)
    expect(verdict.failing).toEqual(['api-test'])
    expect(polls).toBe(5)
    expect(t).toBe(2000)
  })

  test('a restart seen between crashes (waiting restart, no pid) is a crash loop too', async () => {
    const { verdict } = await verifyFrames([[api()], [api({ status: 'waiting restart', pid: 0 })]])
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/^crash loop: api-test/)
  })

  test('errored fails at the first look', async () => {
    const { verdict, polls, t } = await verifyFrames([[api({ status: 'errored', pid: 0 })]])
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toBe('api-test is errored')
    expect(verdict.failing).toEqual(['api-test'])
    expect(polls).toBe(1)
    expect(t).toBe(0)
  })

  test.each(['stopped', 'waiting restart'])('%s fails at once', async (status) => {
    const { verdict, polls } = await verifyFrames([[api({ status })]])
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toBe(`api-test is ${status}`)
    expect(polls).toBe(1)
  })

  test('an own process that falls from online (no restart) fails', async () => {
    const { verdict } = await verifyFrames([[api()], [api({ status: 'stopped' })]])
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/api-test \(pm_id 3\) went down .* \(now stopped\)/)
  })

  test('an own process deleted during the window fails', async () => {
    const { verdict } = await verifyFrames([[api()], []])
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/disappeared/)
  })

  test('times out when the processes never come up, saying what it waited for', async () => {
    const { verdict, t } = await verifyFrames([[api({ status: 'launching' })]], { timeoutSeconds: 10 })
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toBe('not healthy within timeout-seconds (10 s): api-test has 0/1 online')
    expect(verdict.failing).toEqual(['api-test'])
    expect(t).toBe(10_000)
  })

  test('times out when an own name has no process at all', async () => {
    const { verdict } = await verifyFrames([[neighbour]], { timeoutSeconds: 3 })
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/api-test has no process/)
  })

  test('waits for every expected instance of a cluster app', async () => {
    const two = (s: string) => [proc({ name: 'api-test', pmId: 3 }), proc({ name: 'api-test', pmId: 4, status: s })]
    const { verdict, t } = await verifyFrames([two('launching'), two('launching'), two('online')], {
      expectedCounts: new Map([['api-test', 2]]),
      stableSeconds: 1
    })
    expect(verdict.ok).toBe(true)
    // The window starts when both are online (t = 1 s).
    expect(t).toBe(2000)
  })

  test('a health URL must answer 2xx; it is retried until it does', async () => {
    const answers = [502, 503, 200]
    const asked: string[] = []
    const { verdict } = await verifyFrames([[api()]], {
      stableSeconds: 1,
      healthUrls: ['http://127.0.0.1:9/health'],
      fetchStatus: async (url) => {
        asked.push(url)
        return answers.shift() ?? 200
      }
    })
    expect(verdict.ok).toBe(true)
    expect(verdict.reason).toMatch(/health URLs 2xx/)
    expect(asked).toHaveLength(3)
    expect(verdict.healthy['http://127.0.0.1:9/health']).toBe(200)
  })

  test('a health URL that never answers 2xx fails at the timeout with its last answer', async () => {
    const { verdict } = await verifyFrames([[api()]], {
      stableSeconds: 1,
      timeoutSeconds: 4,
      healthUrls: ['http://127.0.0.1:9/health'],
      fetchStatus: async () => {
        throw Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } })
      }
    })
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toBe('not healthy within timeout-seconds (4 s): health URL http://127.0.0.1:9/health → fetch failed (ECONNREFUSED)')
  })

  test('a health URL with a password or a token is masked in the reason, and in an error that quotes it (issue 23)', async () => {
    const url = 'https://admin:hunter2@127.0.0.1:9/health?token=s3cr3t'
    const { verdict } = await verifyFrames([[api()]], {
      stableSeconds: 1,
      timeoutSeconds: 2,
      healthUrls: [url],
      fetchStatus: async (u) => {
        throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${u}`)
      }
    })
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toContain('https://***@127.0.0.1:9/health?token=***')
    expect(verdict.reason).not.toMatch(/hunter2|s3cr3t|admin/)
  })

  test('a redirect is not healthy', async () => {
    const { verdict } = await verifyFrames([[api()]], { stableSeconds: 0, timeoutSeconds: 1, healthUrls: ['http://x/'], fetchStatus: async () => 302 })
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(/→ 302/)
  })
})

describe('assessOwn and changedSince', () => {
  test('other apps never count', () => {
    expect(assessOwn([neighbour, api()], ['api-test'], new Map())).toEqual({ state: 'ready' })
  })

  test('a new process after the window started is reported', () => {
    const baseline = new Map([[3, { pid: 1003, restarts: 0, name: 'api-test', at: 0 }]])
    const r = changedSince(baseline, [api(), proc({ name: 'api-test', pmId: 9 })], 1000)
    expect(r.names).toEqual(['api-test'])
    expect(r.detail).toEqual(['api-test (pm_id 9) appeared after the processes came up'])
  })

  test('nothing changed, nothing reported', () => {
    const baseline = new Map([[3, { pid: 1003, restarts: 0, name: 'api-test', at: 0 }]])
    expect(changedSince(baseline, [api()], 1000)).toEqual({ names: [], detail: [] })
  })
})

test('expected instances follow PM2: a number, 0 or max for every CPU, -n for all but n, unset for one', async () => {
  const { expectedInstances } = await import('../../src/core/verify.js')
  expect([null, 3, '2', 0, 'max', -1, -9, 'junk'].map((i) => expectedInstances(i, 4))).toEqual([1, 3, 2, 4, 4, 3, 1, 1])
})

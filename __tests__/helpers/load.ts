// Loopback load for zero-downtime checks: a bounded request loop and a probe, against a port this test owns.
import http from 'node:http'
import net from 'node:net'

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/**
 * `connections` loops against the port until stopped (or 60 s), half on keep-alive
 * sockets, half on a new connection per request (keep-alive sockets stay with the
 * worker that accepted them): answers by release, failures.
 */
export function loadLoop(port: number, connections = 8) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const stats = { ok: 0, failed: 0, byRelease: {} as Record<string, number>, errors: [] as string[] }
  let stop = false
  const deadline = Date.now() + 60_000
  const one = (keepAlive: boolean) =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: keepAlive ? agent : false }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => {
          if (res.statusCode === 200) {
            stats.ok++
            const release = body.trim().split(' ')[2] ?? '?'
            stats.byRelease[release] = (stats.byRelease[release] ?? 0) + 1
          } else stats.failed++
          resolve()
        })
      })
      // A request that hangs counts as failed, and the loop stays bounded.
      req.setTimeout(5000, () => req.destroy(new Error('timed out after 5 s')))
      req.on('error', (err) => {
        stats.failed++
        if (stats.errors.length < 5) stats.errors.push(`${err.message} (${keepAlive ? 'keep-alive' : 'new connection'}, at ${new Date().toISOString().slice(11, 23)})`)
        resolve()
      })
    })
  const loops = Array.from({ length: connections }, async (_, i) => {
    while (!stop && Date.now() < deadline) await one(i % 2 === 0)
  })
  return {
    stats,
    async stop() {
      stop = true
      await Promise.all(loops)
      agent.destroy()
      return stats
    }
  }
}

/** One request on a new connection (keep-alive sockets stay with the worker that accepted them). */
export function probe(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve(body.trim().split(' ')[2] ?? null))
      })
      .on('error', () => resolve(null))
  })
}

export async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    const v = await fn()
    if (v !== null) return v
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}


// A health URL's status code: what promise 4's "every health-url answers 2xx" asks of the network.

/** The status a URL answers with (redirects not followed), within 5 s; throws when it does not answer. */
export async function fetchStatus(url: string): Promise<number> {
  // fetch refuses a URL with credentials: `user:pass@` becomes a Basic Authorization header.
  const u = new URL(url)
  const headers: Record<string, string> = {}
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
    u.username = ''
    u.password = ''
  }
  const res = await fetch(u, { signal: AbortSignal.timeout(5000), redirect: 'manual', headers })
  await res.body?.cancel()
  return res.status
}

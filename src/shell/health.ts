// A health URL's status code: what promise 4's "every health-url answers 2xx" asks of the network.

/** The status a URL answers with (redirects not followed), within 5 s; throws when it does not answer. */
export async function fetchStatus(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'manual' })
  await res.body?.cancel()
  return res.status
}

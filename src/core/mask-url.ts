// A URL as the action prints or records it: a `user:pass@` and every query value may be a
// secret (`https://user:pass@host/health`, `?token=…`), so they are masked in every message,
// annotation, summary, report and audit line that names a health-url.

/** The URL with its password (and user), every query value and its fragment masked; text that is no URL unchanged. */
export function maskUrl(text: string): string {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    // Not a URL (an input error names it): mask what looks like credentials or a query anyway.
    return text.replace(/\/\/[^/@\s]*@/, '//***@').replace(/\?\S*/, '?***')
  }
  const creds = u.username || u.password ? '***@' : ''
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&')
  return `${u.protocol}//${creds}${u.host}${u.pathname}${query ? `?${query}` : u.search ? '?***' : ''}${u.hash ? '#***' : ''}`
}

// The pm2 versions the action is tested against, as data, and what it says when the host's
// pm2 CLI or daemon is outside them. CI runs the e2e subset on 5.4.x, 6.0.x and 7.0.x. Pure.

/** The supported range, [from, below): target resolution, the CLI's flags and the RPC reads are those of 5.4 – 7.x. */
export const SUPPORTED_PM2 = { from: [5, 4, 0], below: [8, 0, 0], text: '5.4 to 7.x (tested: 5.4.3, 6.0.14, 7.0.4)' } as const

type Triple = readonly [number, number, number]

/** major.minor.patch of a version string (`6.0.14`, `v5.4.3`, `7.0.4-beta.1`); null when it is not one. */
export function parseVersion(v: string): Triple | null {
  const m = v.trim().match(/^v?(\d+)\.(\d+)\.(\d+)/)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null
}

function compare(a: Triple, b: Triple): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

export function isSupportedPm2(v: string): boolean {
  const t = parseVersion(v)
  return t !== null && compare(t, SUPPORTED_PM2.from) >= 0 && compare(t, SUPPORTED_PM2.below) < 0
}

/**
 * The warnings for the versions found (null: not known, e.g. a wrapper script or no RPC):
 * one naming every version outside the range, and one when CLI and daemon differ
 * (the daemon in memory is older or newer than the pm2 that sends the commands).
 */
export function pm2VersionWarnings(found: { cli: string | null; daemon: string | null }): string[] {
  const out: string[] = []
  const outside = [
    ...(found.cli !== null && !isSupportedPm2(found.cli) ? [`pm2 CLI ${found.cli}`] : []),
    ...(found.daemon !== null && !isSupportedPm2(found.daemon) ? [`PM2 daemon ${found.daemon}`] : [])
  ]
  if (outside.length > 0) {
    out.push(
      `${outside.join(' and ')} ${outside.length > 1 ? 'are' : 'is'} outside the supported range, pm2 ${SUPPORTED_PM2.text}: ` +
        'the way PM2 resolves targets and the commands the action sends were verified on those versions only. Upgrade pm2 on the host (`npm i -g pm2@7`; then `pm2 update`, which restarts every process of the daemon, so agree a moment with everyone who runs apps on it).'
    )
  }
  if (found.cli !== null && found.daemon !== null && found.cli !== found.daemon) {
    out.push(`the pm2 CLI (${found.cli}) and the running PM2 daemon (${found.daemon}) differ: the daemon in memory predates the installed pm2 (or the reverse). \`pm2 update\` makes them one version, but restarts every process of the daemon: agree a moment with everyone who runs apps on it.`)
  }
  return out
}

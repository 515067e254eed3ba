// What the ecosystem file resolves each own app to, in the two forms the core compares:
// as PM2 will record it (for planning moves) and as real paths now (for "runs what the
// file says"). Reads the file system; the rules are in core/swap.ts and core/release.ts.
import fs from 'node:fs'
import os from 'node:os'
import type { ProcessRecord } from '../core/process-record.js'
import type { Wanted } from '../core/release.js'
import type { AppTarget } from '../core/swap.js'
import { expectedInstances } from '../core/verify.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { resolveAppPaths } from '../shell/preflight.js'
import { realOrSelf } from '../shell/proc.js'

export const availableCpus = (): number => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length)

/** PM2's rule: cluster when exec_mode says so, or when `instances` is set and exec_mode is not. */
const isCluster = (app: EcosystemApp) => (app.execMode ? /^cluster/.test(app.execMode) : app.instances !== null)

/**
 * Each own app as PM2 will record it. A script PM2 finds on PATH (`script: npm`) is
 * recorded under another path: the recorded one stands in, so it never reads as a change.
 */
export function appTargets(names: readonly string[], apps: readonly EcosystemApp[], workingDirectory: string, before: readonly ProcessRecord[]): AppTarget[] {
  const out: AppTarget[] = []
  for (const name of names) {
    const app = apps.find((a) => a.name === name)
    const paths = app && resolveAppPaths(app, workingDirectory)
    if (!app || !paths) continue
    const recorded = before.find((p) => p.name === name && p.script !== null)?.script ?? null
    out.push({
      name,
      script: fs.existsSync(paths.script) || recorded === null ? paths.script : recorded,
      cwd: paths.cwd,
      interpreter: app.interpreter,
      execMode: isCluster(app) ? 'cluster' : 'fork',
      instances: expectedInstances(app.instances, availableCpus()),
      namespace: app.namespace
    })
  }
  return out
}

/** Each own app's script and cwd as real paths now (after a switch, through the new link). */
export function wantedPaths(names: readonly string[], apps: readonly EcosystemApp[], workingDirectory: string): Map<string, Wanted> {
  const out = new Map<string, Wanted>()
  for (const name of names) {
    const app = apps.find((a) => a.name === name)
    const paths = app && resolveAppPaths(app, workingDirectory)
    if (!app || !paths) continue
    out.set(name, { script: fs.existsSync(paths.script) ? realOrSelf(paths.script) : null, cwd: realOrSelf(paths.cwd), interpreter: app.interpreter })
  }
  return out
}

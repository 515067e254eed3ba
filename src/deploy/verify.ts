// Verify own processes (promise 4): online, stable, answering, and running what the file says.
import { DeployStop } from '../core/outcome.js'
import type { ProcessRecord } from '../core/process-record.js'
import { staleProcesses } from '../core/release.js'
import { expectedInstances, verifyOwnHealthy } from '../core/verify.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import { fetchStatus } from '../shell/health.js'
import { runningFacts } from '../shell/proc.js'
import { availableCpus, wantedPaths } from './app-targets.js'
import { showLogs } from './own-processes.js'
import type { Pm2Port } from './ports.js'
import type { DeployState } from './state.js'
import type { DeployContext } from './context.js'
import { printLine } from '../shell/print.js'

/** The own processes as verification sees them: a swap's old instances, still serving, left out. */
const withoutRetired = (state: DeployState, list: readonly ProcessRecord[]) => {
  const old = new Set(state.retired ? [] : state.retire.map((d) => d.pmId))
  return list.filter((p) => !old.has(p.pmId))
}

/** Own processes online and stable (promise 4), with the event bus when there is a window to watch. */
export async function watchOwn(ctx: DeployContext, pm2: Pm2Port, names: readonly string[], expected: (name: string) => number, opts: { stableSeconds: number; healthUrls: readonly string[] }) {
  const { state, inputs } = ctx
  // With PM2's event bus a crash wakes the check at once and the list is read every 2 s as a
  // safety net; without it (a pm2 wrapper, CLI reads) the list is read every 0.5 s.
  const eventSleep = opts.stableSeconds > 0 || opts.healthUrls.length > 0 ? await pm2.eventSleep(new Set(names)) : null
  const verdict = await verifyOwnHealthy({
    ownNames: names,
    expectedCounts: new Map(names.map((n) => [n, expected(n)])),
    stableSeconds: opts.stableSeconds,
    timeoutSeconds: inputs.timeoutSeconds,
    healthUrls: opts.healthUrls,
    list: async () => withoutRetired(state, await pm2.list()),
    fetchStatus,
    pollMs: eventSleep ? 2000 : 500,
    ...(eventSleep ? { sleep: eventSleep } : {})
  })
  if (!verdict.ok) {
    // The action never stops a process; a daemon shutting down does (see deploy/daemon-gone.ts).
    ctx.state.sawStopping ||= verdict.processes.some((p) => p.status === 'stopping')
    const failing = showLogs(verdict.failing, verdict.processes.length ? verdict.processes : await pm2.list(), inputs.logLines)
    // The first failure's cause stays first: a rollback that fails too adds its own.
    state.failing.push(...failing.filter((f) => !state.failing.some((g) => g.name === f.name && g.cause === f.cause)))
  }
  return verdict
}

/** How many instances each own name must have: the file's `instances`, else as many as before. */
export function expectedCounts(ctx: DeployContext, apps: readonly EcosystemApp[]): (name: string) => number {
  return (name) =>
    ctx.inputs.ecosystem
      ? expectedInstances(apps.find((a) => a.name === name)?.instances ?? null, availableCpus())
      : Math.max(1, ctx.state.before.filter((p) => p.name === name).length)
}

/** Verify own processes (promise 4): online, stable, answering, and running what the file says. */
export async function verifyOwn(ctx: DeployContext, pm2: Pm2Port): Promise<void> {
  const { state, inputs } = ctx
  const apps = await ctx.ownership.ecosystemApps()
  const swappedAll = state.retired && state.ownNames.every((n) => state.retire.some((d) => d.name === n))
  // Swapped apps already stayed up for the window beside the old ones: the check now is that they still do.
  const verdict = await watchOwn(ctx, pm2, state.ownNames, expectedCounts(ctx, apps), { stableSeconds: swappedAll ? 0 : inputs.stableSeconds, healthUrls: inputs.healthUrls })
  state.checks.push({ name: 'own processes healthy', ok: verdict.ok, detail: verdict.reason })
  printLine(verdict.reason)
  if (!verdict.ok) throw new DeployStop('failed', `Own processes are not healthy: ${verdict.reason}`, 'Deploy not healthy')
  if (inputs.ecosystem) checkRunsWhatFileSays(ctx, verdict.processes, apps, inputs.workingDirectory)
}

/** Promise 4's second half: each own process runs the script, cwd and interpreter the file resolves to now. */
export function checkRunsWhatFileSays(ctx: DeployContext, processes: readonly ProcessRecord[], apps: readonly EcosystemApp[], workingDirectory: string): void {
  const { state } = ctx
  const stale = staleProcesses(runningFacts(processes), wantedPaths(state.ownNames, apps, workingDirectory), {
    switchedAt: state.switchedAt,
    releaseDir: state.release?.switched ? state.release.live : null
  })
  const detail = stale.length ? stale.map((s) => s.message).join('; ') : 'every own process runs the script, cwd and interpreter of the file'
  state.checks.push({ name: 'runs what the file says', ok: stale.length === 0, detail })
  if (stale.length > 0) {
    throw new DeployStop('failed', `Own processes do not run what the ecosystem file says (a stale release): ${detail}. \`strategy: recreate\` starts them from the file's paths.`, 'Stale release')
  }
  printLine(detail)
}

// Who runs an own name (SPEC "Who owns what"), in preflight: with an ecosystem file or
// `current-link`, every process with an own name must run from this deploy's directories
// (or where the last recorded deploy of this app left it), or the deploy is refused before any command; with only a whitelist, a name whose
// directory moved since the last recorded deploy is warned about. Rules: core/identity.ts.
import path from 'node:path'
import { directoriesByName, judgeIdentity, movedWarnings, ownDirectories, type DeployPath } from '../core/identity.js'
import { DeployStop } from '../core/outcome.js'
import type { ProcessRecord } from '../core/process-record.js'
import { previousOwnDirectories } from '../shell/audit.js'
import { printLine } from '../shell/print.js'
import { ownNamedProcesses, resolveDeployPath } from '../shell/deploy-paths.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import type { Inputs } from '../shell/inputs.js'
import { resolveAppPaths } from '../shell/preflight.js'
import type { DeployContext } from './context.js'

/** The paths this deploy names: working-directory, each own app's cwd and script directory, current-link, the directory of release-dir. */
export function deployPaths(inputs: Inputs, ownNames: readonly string[], apps: readonly EcosystemApp[]): DeployPath[] {
  const paths = [resolveDeployPath('working-directory', inputs.workingDirectory)]
  for (const name of ownNames) {
    const app = apps.find((a) => a.name === name)
    const resolved = app && resolveAppPaths(app, inputs.workingDirectory)
    if (!resolved) continue
    paths.push(resolveDeployPath(`${name} cwd`, resolved.cwd), resolveDeployPath(`${name} script directory`, path.dirname(resolved.script)))
  }
  if (inputs.release) {
    paths.push(resolveDeployPath('current-link', inputs.release.currentLink), resolveDeployPath('the directory of release-dir', path.dirname(inputs.release.releaseDir)))
  }
  return paths
}

/** The identity check (before any command): refused when another project runs an own name, unless `adopt: true`. */
export function checkIdentity(ctx: DeployContext, apps: readonly EcosystemApp[]): void {
  const { state, inputs } = ctx
  if (!inputs.ecosystem && !inputs.release) return warnIfMoved(ctx)
  const ownDirs = ownDirectories(deployPaths(inputs, state.ownNames, apps))
  const recorded = previousOwnDirectories(inputs.auditLog, inputs.app, inputs.suffix)
  const verdict = judgeIdentity({ ownDirs, processes: ownNamedProcesses(state.before, state.own), adopt: inputs.adopt, recorded })
  state.checks.push({ name: 'identity', ok: verdict.ok, detail: verdict.detail })
  if (verdict.message) throw new DeployStop('aborted', verdict.message, 'Another project runs an own name')
  if (verdict.foreign.length > 0) state.warnings.push(verdict.detail)
  printLine(`identity: ${verdict.detail}`)
}

/** With only a whitelist: names alone declare ownership; a directory that moved since the last recorded deploy is warned about. */
function warnIfMoved(ctx: DeployContext): void {
  const { state, inputs } = ctx
  const previous = previousOwnDirectories(inputs.auditLog, inputs.app, inputs.suffix)
  const moved = movedWarnings(previous, directoriesByName(ownNamedProcesses(state.before, state.own)))
  state.warnings.push(...moved)
  const compared = Object.keys(previous).length > 0 ? 'directories compared with the last recorded deploy' : 'no earlier deploy recorded their directories'
  state.checks.push({ name: 'identity', ok: true, detail: `only a whitelist: names alone declare ownership; ${compared}; ${moved.length} moved` })
}

/** Each own name → the real directories its processes run from, for the audit record; null when no list was read. */
export function ownDirectoriesOf(list: readonly ProcessRecord[] | null, own: ReadonlySet<string>): Record<string, string[]> | null {
  return list ? directoriesByName(ownNamedProcesses(list, own)) : null
}

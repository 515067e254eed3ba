// Who owns what (SPEC "Who owns what"): own names come from the whitelist plus the
// suffix, or from the ecosystem file; never from a pattern over the process list.
import { UserError } from './errors.js'
import type { ProcessRecord } from './process-record.js'
import { looksLikeConfigFile, pm2ReadsAsNumber } from './targets.js'

export class OwnershipError extends UserError {}

export interface OwnershipInput {
  app: string
  suffix: string
  whitelist: readonly string[]
  /** App names of the ecosystem file, when one is given. */
  ecosystemAppNames?: readonly string[]
  /** `require-app-prefix` (default true): `false` drops only the rule that names start with `app`. */
  requireAppPrefix?: boolean
}

/** Own names in order: whitelist + suffix, or the ecosystem file's app names. */
export function deriveOwnNames(input: OwnershipInput): string[] {
  const { app, suffix, whitelist, ecosystemAppNames, requireAppPrefix = true } = input
  let names: string[]
  if (whitelist.length > 0) {
    for (const entry of whitelist) {
      if (suffix !== '' && entry.endsWith(suffix)) {
        throw new OwnershipError(
          `whitelist entry "${entry}" already ends with the environment suffix "${suffix}". ` +
            `List base names only: drop the suffix and write "${entry.slice(0, -suffix.length)}".`
        )
      }
    }
    names = whitelist.map((entry) => entry + suffix)
  } else if (ecosystemAppNames && ecosystemAppNames.length > 0) {
    names = [...ecosystemAppNames]
  } else {
    throw new OwnershipError(
      'Neither `whitelist` nor `ecosystem` names any process. Set `whitelist` to the base names of this app\'s processes ' +
        '(e.g. "flyer-crawler-api, flyer-crawler-worker") or point `ecosystem` at the file that declares them.'
    )
  }
  const seen = new Set<string>()
  for (const name of names) {
    const problem = nameProblem(name, app, suffix, requireAppPrefix)
    if (problem) throw new OwnershipError(problem)
    if (seen.has(name)) throw new OwnershipError(`own name "${name}" is listed twice: list each process once.`)
    seen.add(name)
  }
  return names
}

/** Why a name cannot be an own name, or null. Static rules only (no process list). */
export function nameProblem(name: string, app: string, suffix: string, requireAppPrefix = true): string | null {
  const quoted = JSON.stringify(name)
  if (name === '') return 'an own name is empty: remove the empty whitelist entry.'
  if (name === 'all') return `own name ${quoted} is PM2's word for every process: rename the process.`
  if (pm2ReadsAsNumber(name) || pm2ReadsAsNumber(name.trim()))
    return `own name ${quoted} is numeric, and PM2 reads numbers as pm_ids or namespaces: give the process a name with letters.`
  if (name.includes('/')) return `own name ${quoted} contains "/", which PM2 reads as a regex or a script path: remove the slash.`
  if (/\s/.test(name)) return `own name ${quoted} contains white space: use "-" or "_" instead.`
  if (name.startsWith('-')) return `own name ${quoted} starts with "-", which pm2 reads as an option: rename the process.`
  if (looksLikeConfigFile(name))
    return `own name ${quoted} looks like a config file to PM2 (.json, .yml, .yaml, .config.js): rename the process.`
  // Apps whose processes share no prefix (orchestrator, agent-scaffold, …) opt out of this rule only.
  if (requireAppPrefix && !name.startsWith(app))
    return (
      `own name ${quoted} does not start with the app name "${app}": every own process must be named "${app}…${suffix}". ` +
      `If this app's processes share no common prefix, set \`require-app-prefix: false\` (the suffix is still checked), ` +
      `or rename the process.`
    )
  if (!name.endsWith(suffix)) {
    const shape = requireAppPrefix ? `"${app}…${suffix}"` : `"…${suffix}"`
    return `own name ${quoted} does not end with the environment suffix "${suffix}": every own process must be named ${shape}.`
  }
  return null
}

/** Refusals that need the live process list: an own name that is another app's namespace. */
export function collisionProblems(ownNames: readonly string[], processes: readonly ProcessRecord[]): string[] {
  const own = new Set(ownNames)
  const problems: string[] = []
  for (const name of ownNames) {
    const holders = processes.filter((p) => !own.has(p.name) && p.namespace === name)
    if (holders.length > 0) {
      const who = [...new Set(holders.map((p) => p.name))].join(', ')
      problems.push(
        `own name "${name}" is also the namespace of ${who}; PM2 would fall back to that namespace ` +
          `whenever "${name}" has no process. Rename the process or move those apps to another namespace.`
      )
    }
  }
  return problems
}

export function isOwn(process: ProcessRecord, ownNames: ReadonlySet<string>): boolean {
  return ownNames.has(process.name)
}

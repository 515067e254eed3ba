// The deploy plan as data: which pm2 commands, on which targets. Pure.
import { UserError } from './errors.js'
import type { ProcessRecord } from './process-record.js'
import { scriptStartArgs, type AppMove, type DeleteByIds, type OldInstance, type ScriptStart } from './swap.js'

export type ByNameVerb = 'restart' | 'reload' | 'delete'
export type EcosystemVerb = 'startOrReload' | 'startOrRestart' | 'start'

export type PlannedCommand =
  | { verb: ByNameVerb; targets: string[]; why: string }
  | { verb: EcosystemVerb; ecosystem: string; only: string[]; env: string | null; why: string }
  | { verb: 'save'; why: string }
  | ScriptStart
  | DeleteByIds

/** The pm2 argument array for a planned command. `--update-env` so the new env takes effect. */
export function commandArgs(cmd: PlannedCommand): string[] {
  switch (cmd.verb) {
    case 'restart':
    case 'delete':
      return [cmd.verb, ...cmd.targets, ...(cmd.verb === 'restart' ? ['--update-env'] : [])]
    case 'reload':
      return ['reload', ...cmd.targets, '--update-env']
    case 'save':
      return ['save']
    case 'start-script':
      return scriptStartArgs(cmd)
    case 'delete-ids':
      return ['delete', ...cmd.instances.map((i) => String(i.pmId))]
    default:
      return [cmd.verb, cmd.ecosystem, '--only', cmd.only.join(','), ...(cmd.env ? ['--env', cmd.env] : []), '--update-env']
  }
}

export function describeCommand(cmd: PlannedCommand): string {
  return `pm2 ${commandArgs(cmd).join(' ')}`
}

export class PlanError extends UserError {}

export interface PlanInput {
  ownNames: readonly string[]
  processes: readonly ProcessRecord[]
  strategy: 'reload' | 'restart' | 'recreate'
  ecosystem: string | null
  ecosystemEnv: string | null
  save: boolean
}

const DOWN = new Set(['stopped', 'errored'])

/**
 * Plans the cleanup and restart of own processes.
 * - Without an ecosystem file: restart/reload the own processes PM2 has, by name; a
 *   stopped or errored one is restarted with its recorded config; an own name PM2
 *   does not have, or `recreate`, is an error.
 * - With an ecosystem file: own processes left stopped/errored are deleted and started
 *   fresh; `reload`/`restart` go through startOrReload/startOrRestart --only own names;
 *   `recreate` deletes every own process PM2 has, then starts them from the file.
 */
export function planDeploy(input: PlanInput): PlannedCommand[] {
  const { ownNames, processes, strategy, ecosystem, ecosystemEnv } = input
  const present = (name: string) => processes.filter((p) => p.name === name)
  const commands: PlannedCommand[] = []
  if (!ecosystem) {
    if (strategy === 'recreate') {
      throw new PlanError(
        '`strategy: recreate` starts processes fresh, which needs their definition: set `ecosystem` to the file that declares them, or use `reload` or `restart`.'
      )
    }
    const missing = ownNames.filter((n) => present(n).length === 0)
    if (missing.length > 0) {
      throw new PlanError(
        `PM2 has no process named ${missing.map((n) => `"${n}"`).join(', ')}. Without an ecosystem file the action can only ` +
          'restart processes PM2 already has: start them once by hand, set `ecosystem`, or fix the whitelist/suffix.'
      )
    }
    const down = ownNames.filter((n) => present(n).some((p) => DOWN.has(p.status)))
    const up = ownNames.filter((n) => !down.includes(n))
    if (down.length > 0) commands.push({ verb: 'restart', targets: down, why: 'stopped or errored: restart with its recorded config' })
    if (up.length > 0) {
      if (strategy === 'restart') commands.push({ verb: 'restart', targets: up, why: 'strategy restart' })
      // `pm2 reload` takes one target per call.
      else for (const name of up) commands.push({ verb: 'reload', targets: [name], why: 'strategy reload' })
    }
  } else {
    const existing = ownNames.filter((n) => present(n).length > 0)
    const toDelete =
      strategy === 'recreate' ? existing : existing.filter((n) => present(n).some((p) => DOWN.has(p.status)))
    if (toDelete.length > 0) {
      commands.push({
        verb: 'delete',
        targets: toDelete,
        why: strategy === 'recreate' ? 'strategy recreate: start fresh' : 'stopped or errored: start fresh from the ecosystem file'
      })
    }
    const verb: EcosystemVerb = strategy === 'recreate' ? 'start' : strategy === 'restart' ? 'startOrRestart' : 'startOrReload'
    commands.push({ verb, ecosystem, only: [...ownNames], env: ecosystemEnv, why: `strategy ${strategy}` })
  }
  return commands
}

export interface ReleasePlan {
  /** Sent first, in order: cleanup, recreated apps' delete, the ecosystem start of the rest, each swap's new set. */
  commands: PlannedCommand[]
  /** Each swap's old instances: deleted in one command (retireOld) once the new sets are verified (promise 9). */
  retire: OldInstance[]
  /** Apps that go down for a moment (fork mode with changed paths): the summary says so. */
  downtime: string[]
}

/**
 * The plan when script, cwd or interpreter of own apps may change (a release switch),
 * for `reload`/`restart` with an ecosystem file: swapped apps leave the ecosystem
 * command (a config start would reload their old instances in place), recreated ones
 * are deleted by name first, everything else goes through startOrReload/startOrRestart
 * as in planDeploy. `recreate` and plans without an ecosystem file are planDeploy's.
 */
export function planReleaseDeploy(input: PlanInput, moves: readonly AppMove[], swaps: ReadonlyMap<string, { start: ScriptStart; old: OldInstance[] }>): ReleasePlan {
  if (input.strategy === 'recreate' || !input.ecosystem) return { commands: planDeploy(input), retire: [], downtime: [] }
  const swapped = new Set(moves.filter((m) => m.kind === 'swap').map((m) => m.name))
  for (const name of swapped) if (!swaps.has(name)) throw new PlanError(`no swap commands planned for ${name}`)
  const recreated = moves.filter((m) => m.kind === 'recreate').map((m) => m.name)
  const rest = input.ownNames.filter((n) => !swapped.has(n))
  const commands: PlannedCommand[] = []
  if (rest.length > 0) {
    const base = planDeploy({ ...input, ownNames: rest })
    const cleanup = base.find((c) => c.verb === 'delete')
    const targets = [...new Set([...(cleanup && 'targets' in cleanup ? cleanup.targets : []), ...recreated])]
    if (targets.length > 0) {
      commands.push({ verb: 'delete', targets, why: recreated.length ? `paths changed in fork mode (${recreated.join(', ')}): start fresh, with downtime` : cleanup!.why })
    }
    commands.push(...base.filter((c) => c.verb !== 'delete'))
  }
  for (const name of input.ownNames) if (swapped.has(name)) commands.push(swaps.get(name)!.start)
  return { commands, retire: [...swapped].flatMap((n) => swaps.get(n)!.old), downtime: recreated }
}

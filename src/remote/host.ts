// What the remote layer (promise 12) and the fleet rollout (promise 13) share: a host, and
// what one guarded deploy on it ended with. A fleet is a loop over HostDeployer.deploy.
import type { HostEnd } from '../core/rollout.js'

/** One `ssh-host` line, parsed: `[user@]host[:port]`, the user from `ssh-user` when the line names none. */
export interface HostSpec {
  /** The line as the user wrote it (trimmed): the key of the `hosts` output. */
  label: string
  user: string
  host: string
  port: number
}

/** Why a host is deployed: the run's release, or this run's rollback of a host it already switched (promise 13). */
export type HostPurpose = { kind: 'deploy'; skipMigrate?: boolean } | { kind: 'fleet-rollback'; release: string; reason: string }

/** How one host's guarded deploy ended, as the runner saw it: what the planner reads (core/rollout.ts HostEnd), and more. */
export interface HostOutcome extends HostEnd {
  host: HostSpec
  /** The host's own step outputs (its GITHUB_OUTPUT: result, report, release, …; paths are the host's). */
  outputs: Record<string, string>
  /** The host's job summary (Markdown), to append to the runner's. */
  summary: string
}

export interface HostDeployer {
  deploy(host: HostSpec, purpose: HostPurpose): Promise<HostOutcome>
  /** Stops the run under way before its release switch, else lets it finish; says which (a fleet's batch and a cancelled job use it). */
  cancel?(): Promise<string>
}

// The hosts of one run, deployed one at a time in order (promise 13's order); the first host
// that does not end deployed stops the rollout. The fleet rollout (rollback of switched hosts)
// replaces this loop.
import type { HostDeployer, HostOutcome, HostSpec } from './host.js'

export async function rollout(deployer: HostDeployer, hosts: readonly HostSpec[]): Promise<HostOutcome[]> {
  const outcomes: HostOutcome[] = []
  for (const host of hosts) {
    const o = await deployer.deploy(host, { kind: 'deploy' })
    outcomes.push(o)
    if (o.result !== 'deployed' && o.result !== 'dry-run') break
  }
  return outcomes
}

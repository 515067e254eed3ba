// What the phases share once the inputs are known: the state, the inputs, the ports.
import type { Inputs } from '../shell/inputs.js'
import type { Ownership } from './ownership.js'
import type { DeployPorts } from './ports.js'
import type { DeployState } from './state.js'

/** What the phases share once the inputs are known. */
export interface DeployContext {
  state: DeployState
  inputs: Inputs
  ownership: Ownership
  /** The environment pm2 and the ecosystem reader get (promise 7). */
  cleanEnv: Record<string, string>
  ports: DeployPorts
}

/** Where the ecosystem file of a release is: the new one, or the previous one on rollback. */
export interface Source {
  ecosystem: string | null
  workingDirectory: string
}

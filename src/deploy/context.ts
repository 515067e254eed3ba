// What the phases share once the inputs are known: the state, the inputs, the ports.
import type { Inputs } from '../shell/inputs.js'
import type { Ownership } from './ownership.js'
import type { DeployPorts, Pm2Port } from './ports.js'
import type { DeployState } from './state.js'

/** What the phases share once the inputs are known. */
export interface DeployContext {
  state: DeployState
  inputs: Inputs
  ownership: Ownership
  /** The environment pm2 and the ecosystem reader get (promise 7). */
  cleanEnv: Record<string, string>
  ports: DeployPorts
  /** The daemon connection being opened (it is also on the state, for finish() to close). */
  opening: Promise<Pm2Port>
  /** Starts reading the ecosystem file when it waits for the prepare stage (promise 15); a no-op otherwise. */
  startReading: () => void
}

/** Where the ecosystem file of a release is: the new one, or the previous one on rollback. */
export interface Source {
  ecosystem: string | null
  workingDirectory: string
}

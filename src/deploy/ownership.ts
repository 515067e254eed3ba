// Own names, resolved once: from the whitelist at once, or from the ecosystem file, which
// is read in a child process while the daemon connection, the lock and the first list are
// taken. The lock's wait asks for them first, so a mistake never waits on another deploy.
import { deriveOwnNames } from '../core/ownership.js'
import type { EcosystemApp } from '../shell/ecosystem-protocol.js'
import type { Inputs } from '../shell/inputs.js'
import { setOwnProcessesOutput } from '../shell/outputs.js'
import type { DeployState } from './state.js'
import { printLine } from '../shell/print.js'

export class Ownership {
  private names: Promise<readonly string[]> | null = null
  private logged = false

  constructor(
    private readonly state: DeployState,
    private readonly inputs: Inputs,
    /** The ecosystem file being read (no apps without one). */
    private readonly reading: Promise<EcosystemApp[]>
  ) {
    reading.catch(() => undefined)
  }

  /** Whether own names need the ecosystem file (no whitelist). */
  get fromFile(): boolean {
    return this.inputs.whitelist.length === 0 && this.inputs.ecosystem !== null
  }

  async ecosystemApps(): Promise<EcosystemApp[]> {
    const apps = await this.reading
    if (this.inputs.ecosystem && !this.logged) printLine(`ecosystem ${this.inputs.ecosystem}: ${apps.map((a) => a.name).join(', ')}`)
    this.logged = true
    return apps
  }

  /** Own names, derived and checked once; later calls share the first. */
  resolve(): Promise<readonly string[]> {
    return (this.names ??= this.derive())
  }

  private async derive(): Promise<readonly string[]> {
    const { app, suffix, whitelist } = this.inputs
    const apps = whitelist.length === 0 ? await this.ecosystemApps() : []
    const names = deriveOwnNames({ app, suffix, whitelist, ecosystemAppNames: apps.map((a) => a.name), requireAppPrefix: this.inputs.requireAppPrefix })
    this.state.ownNames = names
    printLine(`own processes${whitelist.length === 0 ? ' (the apps of the ecosystem file)' : ''}: ${names.join(', ')}`)
    setOwnProcessesOutput(names)
    return names
  }
}

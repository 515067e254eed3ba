// One PM2 process as the action records it: the core's view of PM2, never any environment value.
export interface ProcessRecord {
  pmId: number
  name: string
  namespace: string
  pid: number
  status: string
  restarts: number
  unstableRestarts: number
  /** Spawn time of the current OS process (ms since epoch), when PM2 knows it. */
  startedAt: number | null
  execMode: string
  instances: number | null
  interpreter: string | null
  script: string | null
  cwd: string | null
  outLog: string | null
  errLog: string | null
  memory: number | null
  cpu: number | null
}

// What the runner and the host agent (src/remote/agent.ts) say to each other, as JSON: the
// inputs of a run on stdin, and the answers of `start`, `result`, `cancel` and `upload`.
import type { ReleaseRecord } from '../core/report-schema.js'

/** Path inputs in which a leading `~/` means the SSH user's home on the host. */
export const HOST_PATH_INPUTS = ['working-directory', 'ecosystem', 'pm2-path', 'pm2-home', 'snapshot-dir', 'audit-log', 'current-link', 'release-dir'] as const

export interface StartPayload {
  /** Names the run directory: the job's run id, attempt and job. */
  tag: string
  /** The deploy inputs, by action.yml name, as the workflow gave them. */
  inputs: Record<string, string>
  /** The job's metadata (GITHUB_* without file paths or tokens), for the host's report. */
  env: Record<string, string>
}

export interface StartAnswer {
  runDir: string
  node: string
  pm2: string | null
  supervisor: number
}

export interface HostRunResult {
  done: boolean
  main: { code: number | null; signal: string | null } | null
  outputs: Record<string, string>
  summary: string
  releaseSwitch: { link: string; previous: string | null; target: string } | null
  commandsStarted: number
  release: ReleaseRecord | null
}

export interface CancelAnswer {
  state: 'stopped' | 'past-switch' | 'done'
}

export interface UploadHeader {
  releaseDir: string
  currentLink: string
}

// What the main step of a remote deploy saves for its post step (STATE_*): the ssh directory to
// remove, the host runs started, and those whose result the main step collected.
import * as core from '@actions/core'
import { z } from 'zod'
import type { HostRun } from './deployer.js'

export const REMOTE_STATE = { sshDir: 'remote-ssh-dir', runs: 'remote-runs', collected: 'remote-collected' } as const

const SshDirSchema = z.object({ dir: z.string().min(1), controlDir: z.string().min(1) })
const RunsSchema = z.array(z.object({ label: z.string(), runDir: z.string(), node: z.string(), agent: z.string() }))

export function saveSshDir(dir: string, controlDir: string): void {
  core.saveState(REMOTE_STATE.sshDir, JSON.stringify({ dir, controlDir }))
}

export function saveRuns(runs: readonly HostRun[]): void {
  core.saveState(REMOTE_STATE.runs, JSON.stringify(runs))
}

export function saveCollected(runDirs: readonly string[]): void {
  core.saveState(REMOTE_STATE.collected, JSON.stringify(runDirs))
}

function parsed<T>(raw: string, schema: z.ZodType<T>): T | null {
  try {
    const r = schema.safeParse(JSON.parse(raw))
    return r.success ? r.data : null
  } catch {
    return null
  }
}

export function readRemoteState(): { sshDir: z.infer<typeof SshDirSchema> | null; runs: HostRun[]; collected: string[] } {
  return {
    sshDir: parsed(core.getState(REMOTE_STATE.sshDir), SshDirSchema),
    runs: parsed(core.getState(REMOTE_STATE.runs), RunsSchema) ?? [],
    collected: parsed(core.getState(REMOTE_STATE.collected), z.array(z.string())) ?? []
  }
}

// The state the main step saves for the post step (core.saveState → STATE_<name>), each key
// named once. The lock's are saved before the lock is taken: a main step killed right after taking
// it still leaves the post step what it needs, and a token that never held the lock matches nothing.
// The progress keys (snapshot, release switch, commands started) let the post step say, for a main
// step killed outright, how far it got.
import * as core from '@actions/core'
import { z } from 'zod'

export const STATE = {
  lockFile: 'lock-file',
  lockToken: 'lock-token',
  snapshotBefore: 'snapshot-before',
  releaseSwitch: 'release-switch',
  commandsStarted: 'commands-started'
} as const

export interface SavedLock {
  file: string
  token: string
}

export function saveLockState(lock: SavedLock): void {
  core.saveState(STATE.lockFile, lock.file)
  core.saveState(STATE.lockToken, lock.token)
}

/** The lock the main step was about to take, or null when it took none. */
export function readLockState(): SavedLock | null {
  const file = core.getState(STATE.lockFile)
  const token = core.getState(STATE.lockToken)
  return file && token ? { file, token } : null
}

const ReleaseSwitchSchema = z.object({ link: z.string(), previous: z.string().nullable(), target: z.string() })
export type SavedReleaseSwitch = z.infer<typeof ReleaseSwitchSchema>

/** How far the main step got, as it saved it (each key's last value). */
export interface SavedProgress {
  snapshotBefore: string | null
  releaseSwitch: SavedReleaseSwitch | null
  commandsStarted: string[]
}

export function saveSnapshotBefore(file: string): void {
  core.saveState(STATE.snapshotBefore, file)
}

/** Saved right before the link is switched: the post step of a killed step can say where it was. */
export function saveReleaseSwitch(s: SavedReleaseSwitch): void {
  core.saveState(STATE.releaseSwitch, JSON.stringify(s))
}

/** Saved right before each command is sent: every command the step started, in order. */
export function saveCommandsStarted(commands: readonly string[]): void {
  core.saveState(STATE.commandsStarted, JSON.stringify(commands))
}

function parsed<T>(raw: string, schema: z.ZodType<T>): T | null {
  if (!raw) return null
  try {
    const r = schema.safeParse(JSON.parse(raw))
    return r.success ? r.data : null
  } catch {
    return null
  }
}

export function readProgress(): SavedProgress {
  return {
    snapshotBefore: core.getState(STATE.snapshotBefore) || null,
    releaseSwitch: parsed(core.getState(STATE.releaseSwitch), ReleaseSwitchSchema),
    commandsStarted: parsed(core.getState(STATE.commandsStarted), z.array(z.string())) ?? []
  }
}

// What the runner and the host agent (src/remote/agent.ts) say to each other, as JSON: the
// inputs of a run on stdin, and the answers of `start`, `result`, `cancel` and `upload`.
import type { ReleaseRecord } from '../core/report-schema.js'

/** Path inputs in which a leading `~/` means the SSH user's home on the host. */
export const HOST_PATH_INPUTS = ['working-directory', 'ecosystem', 'pm2-path', 'pm2-home', 'snapshot-dir', 'audit-log', 'current-link', 'release-dir', 'rollback-to'] as const

export interface StartPayload {
  /** Names the run directory: the job's run id, attempt and job. */
  tag: string
  /** The run directory's name, chosen by the runner: it can find (or claim) the run even when the start's answer was lost. */
  run: string
  /** The deploy inputs, by action.yml name, as the workflow gave them. */
  inputs: Record<string, string>
  /** The job's metadata (GITHUB_* without file paths or tokens), for the host's report. */
  env: Record<string, string>
  /** The `ssh-env` variables: the environment of the host's run() (a secret each; never on a command line or in a file left behind). */
  stepEnv?: Record<string, string>
}

/** A run directory's name as the runner makes it and the agent accepts it. */
export const RUN_NAME = /^[A-Za-z0-9_.-]{1,160}$/

/** `claim <name>`: the run had started (its directory), or it never will (the name is taken, so a late `start` refuses it). */
export type ClaimAnswer = { state: 'started'; runDir: string } | { state: 'never-started' }

export interface StartAnswer {
  runDir: string
  /** The node the run uses (the agent's own: the daemon's, resolved), and its version. */
  node: string
  version: string
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
  /** stopped: before any change; past-switch: the run had switched (or sent pm2 commands) when the cancel reached it. */
  state: 'stopped' | 'past-switch' | 'done'
}

/** `upload`'s answer: where the complete upload waits on the host for the run to move it into release-dir. */
export interface UploadAnswer {
  staged: string
}

/** The largest frame the runner accepts: a host cannot make it buffer more (L frames are streamed, at most 1 MiB each). */
export const FRAME_LIMITS = { S: 64 * 1024, L: 1 << 20, R: 16 << 20, K: 0 } as const

/**
 * The stream of `start` and `follow`: frames of `<kind><byte count>\n<bytes>`. S: the StartAnswer
 * (JSON); L: bytes of the host's log; K: a heartbeat (no bytes) while the log is quiet; R: the
 * HostRunResult (JSON), last. A frame cut short by a dropped connection is resumed by
 * `follow <run dir> <log bytes received>`.
 */
export class FrameReader {
  private header = ''
  private kind = ''
  private left = -1
  private body: Buffer[] = []

  constructor(private readonly on: { start(a: StartAnswer): void; log(b: Buffer): void; result(r: HostRunResult): void }) {}

  /** Whether a frame is cut short: bytes of it are still to come. */
  get midFrame(): boolean {
    return this.left >= 0 || this.header !== ''
  }

  feed(chunk: Buffer): void {
    let at = 0
    while (at < chunk.length) {
      if (this.left < 0) {
        const nl = chunk.indexOf(10, at)
        this.header += chunk.subarray(at, nl < 0 ? chunk.length : nl).toString('latin1')
        if (this.header.length > 16) throw new Error(`unexpected data from the host agent: ${JSON.stringify(this.header.slice(0, 100))}`)
        if (nl < 0) return
        at = nl + 1
        const m = this.header.match(/^([SLRK])(\d{1,9})$/)
        if (!m) throw new Error(`unexpected data from the host agent: ${JSON.stringify(this.header.slice(0, 100))}`)
        this.kind = m[1]!
        this.left = Number(m[2])
        const limit = FRAME_LIMITS[this.kind as keyof typeof FRAME_LIMITS]
        if (this.left > limit) throw new Error(`the host agent announced a ${this.kind} frame of ${this.left} bytes (at most ${limit} accepted)`)
        this.header = ''
        this.body = []
        if (this.left === 0) {
          this.complete()
          continue
        }
      }
      const piece = chunk.subarray(at, at + this.left)
      at += piece.length
      this.left -= piece.length
      if (this.kind === 'L') this.on.log(piece)
      else this.body.push(piece)
      if (this.left === 0) this.complete()
    }
  }

  private complete(): void {
    this.left = -1
    if (this.kind === 'S') this.on.start(JSON.parse(Buffer.concat(this.body).toString()) as StartAnswer)
    if (this.kind === 'R') this.on.result(JSON.parse(Buffer.concat(this.body).toString()) as HostRunResult)
  }
}

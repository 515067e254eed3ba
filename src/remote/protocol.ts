// What the runner and the host agent (src/remote/agent.ts) say to each other, as JSON: the
// inputs of a run on stdin, and the answers of `start`, `result`, `cancel` and `upload`.
import type { ReleaseRecord } from '../core/report-schema.js'

/** Path inputs in which a leading `~/` means the SSH user's home on the host. */
export const HOST_PATH_INPUTS = ['working-directory', 'ecosystem', 'pm2-path', 'pm2-home', 'snapshot-dir', 'audit-log', 'current-link', 'release-dir', 'rollback-to'] as const

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
  state: 'stopped' | 'past-switch' | 'done'
}

export interface UploadHeader {
  releaseDir: string
  currentLink: string
}

/**
 * The stream of `start` and `follow`: frames of `<kind><byte count>\n<bytes>`. S: the StartAnswer
 * (JSON); L: bytes of the host's log; R: the HostRunResult (JSON), last. A frame cut short by a
 * dropped connection is resumed by `follow <run dir> <log bytes received>`.
 */
export class FrameReader {
  private header = ''
  private kind = ''
  private left = -1
  private body: Buffer[] = []

  constructor(private readonly on: { start(a: StartAnswer): void; log(b: Buffer): void; result(r: HostRunResult): void }) {}

  feed(chunk: Buffer): void {
    let at = 0
    while (at < chunk.length) {
      if (this.left < 0) {
        const nl = chunk.indexOf(10, at)
        if (nl < 0) {
          this.header += chunk.subarray(at).toString('latin1')
          return
        }
        this.header += chunk.subarray(at, nl).toString('latin1')
        at = nl + 1
        const m = this.header.match(/^([SLR])(\d+)$/)
        if (!m) throw new Error(`unexpected data from the host agent: ${JSON.stringify(this.header.slice(0, 500))}`)
        this.kind = m[1]!
        this.left = Number(m[2])
        this.header = ''
        this.body = []
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

// The host's log, relayed to the job as it arrives (promise 14): annotations and groups through
// @actions/core, every other line through printUntrusted. Bytes come in chunks of any size: a
// line is handled once it is complete. A fleet's batch gives each host its own HostLog instead
// (src/remote/host-log.ts: held until the host ends, then printed as one group).
import * as core from '@actions/core'
import { relayedCommand, type RelayedCommand } from '../core/relay.js'
import { printUntrusted } from '../shell/print.js'

/** Where a host's relayed log goes. */
export interface HostLog {
  /** A line of the host's log (untrusted text). */
  text(line: string): void
  group(title: string): void
  endGroup(): void
  annotate(a: Extract<RelayedCommand, { kind: 'error' | 'warning' | 'notice' }>): void
}

/** The job log, as the host's lines arrive. */
export const LIVE_LOG: HostLog = {
  text: (line) => printUntrusted([line]),
  group: (title) => core.startGroup(title),
  endGroup: () => core.endGroup(),
  annotate: (a) => core[a.kind](a.message, a.properties)
}

export class LogRelay {
  private pending = Buffer.alloc(0)
  private groupOpen = false
  private paused = false
  /** The last phase (log group) the host began: how far it got. */
  lastPhase: string | null = null
  /** The host's own annotations, in order. */
  readonly annotations: { kind: string; message: string }[] = []

  constructor(private readonly out: HostLog = LIVE_LOG) {}

  feed(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
      this.line(data.subarray(0, nl).toString('utf8').replace(/\r$/, ''))
      data = data.subarray(nl + 1)
    }
    this.pending = Buffer.from(data)
  }

  /** The connection dropped: the host's open group is closed, so the runner's own lines stand outside it. */
  pause(): void {
    if (this.groupOpen) this.out.endGroup()
    this.paused = this.groupOpen
    this.groupOpen = false
  }

  /** Reconnected: the group the host had open goes on. */
  resume(): void {
    if (!this.paused || this.lastPhase === null) return
    this.paused = false
    this.out.group(`${this.lastPhase} (continued)`)
    this.groupOpen = true
  }

  /** The end of the host's log: a last line without its newline, and a group the host left open. */
  end(): void {
    if (this.pending.length) this.line(this.pending.toString('utf8'))
    this.pending = Buffer.alloc(0)
    if (this.groupOpen) this.out.endGroup()
    this.groupOpen = false
  }

  private line(line: string): void {
    const cmd = relayedCommand(line)
    if (!cmd) return this.out.text(line)
    switch (cmd.kind) {
      case 'group':
        this.paused = false
        if (this.groupOpen) this.out.endGroup()
        this.out.group(cmd.title)
        this.groupOpen = true
        this.lastPhase = cmd.title
        return
      case 'endgroup':
        this.paused = false
        if (this.groupOpen) this.out.endGroup()
        this.groupOpen = false
        return
      default:
        this.annotations.push({ kind: cmd.kind, message: cmd.message })
        this.out.annotate(cmd)
    }
  }
}

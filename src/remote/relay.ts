// The host's log, relayed to the job as it arrives (promise 14): annotations and groups through
// @actions/core, every other line through printUntrusted. Bytes come in chunks of any size: a
// line is handled once it is complete.
import * as core from '@actions/core'
import { relayedCommand } from '../core/relay.js'
import { printUntrusted } from '../shell/print.js'

export class LogRelay {
  private pending = Buffer.alloc(0)
  private groupOpen = false
  private paused = false
  /** The last phase (log group) the host began: how far it got. */
  lastPhase: string | null = null
  /** The host's own annotations, in order. */
  readonly annotations: { kind: string; message: string }[] = []

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
    if (this.groupOpen) core.endGroup()
    this.paused = this.groupOpen
    this.groupOpen = false
  }

  /** Reconnected: the group the host had open goes on. */
  resume(): void {
    if (!this.paused || this.lastPhase === null) return
    this.paused = false
    core.startGroup(`${this.lastPhase} (continued)`)
    this.groupOpen = true
  }

  /** The end of the host's log: a last line without its newline, and a group the host left open. */
  end(): void {
    if (this.pending.length) this.line(this.pending.toString('utf8'))
    this.pending = Buffer.alloc(0)
    if (this.groupOpen) core.endGroup()
    this.groupOpen = false
  }

  private line(line: string): void {
    const cmd = relayedCommand(line)
    if (!cmd) return printUntrusted([line])
    switch (cmd.kind) {
      case 'group':
        this.paused = false
        if (this.groupOpen) core.endGroup()
        core.startGroup(cmd.title)
        this.groupOpen = true
        this.lastPhase = cmd.title
        return
      case 'endgroup':
        this.paused = false
        if (this.groupOpen) core.endGroup()
        this.groupOpen = false
        return
      default:
        this.annotations.push({ kind: cmd.kind, message: cmd.message })
        core[cmd.kind](cmd.message, cmd.properties)
    }
  }
}

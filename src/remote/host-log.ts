// A host's log while its batch deploys at once (promise 13): held until the host ends, then
// printed as one group, so each host reads as one block; meanwhile one line per phase change,
// with the host's label, says which host is where. Promise 14: every held line is printed as text.
import * as core from '@actions/core'
import type { RelayedCommand } from '../core/relay.js'
import { printLine, printUntrusted } from '../shell/print.js'
import type { HostLog } from './relay.js'

type Held = { kind: 'text'; line: string } | { kind: 'group'; title: string } | { kind: 'annotation'; a: Extract<RelayedCommand, { kind: 'error' | 'warning' | 'notice' }> }

export class HeldHostLog implements HostLog {
  private readonly held: Held[] = []

  /** `onPhase` gets each phase (log group) the host begins, as it begins. */
  constructor(private readonly onPhase: (title: string) => void) {}

  text(line: string): void {
    this.held.push({ kind: 'text', line })
  }

  group(title: string): void {
    this.held.push({ kind: 'group', title })
    this.onPhase(title)
  }

  endGroup(): void {}

  annotate(a: Extract<RelayedCommand, { kind: 'error' | 'warning' | 'notice' }>): void {
    this.held.push({ kind: 'annotation', a })
  }

  /** The host's whole log as one group (a group cannot nest: its phases become heading lines). */
  flush(heading: string): void {
    core.startGroup(heading)
    try {
      for (const h of this.held) {
        if (h.kind === 'text') printUntrusted([h.line], '  ')
        else if (h.kind === 'group') printLine(`── ${h.title} ──`)
        else core[h.a.kind](h.a.message, h.a.properties)
      }
    } finally {
      core.endGroup()
    }
    this.held.length = 0
  }
}

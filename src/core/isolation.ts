// Promise 3: every other process, before vs after. Pure.
import type { ProcessRecord } from './process-record.js'

export type ViolationKind = 'count-changed' | 'went-offline' | 'restarted'

export interface Violation {
  kind: ViolationKind
  name: string
  detail: string
}

export interface IsolationResult {
  violations: Violation[]
  /** Foreign restarts when `foreign-restarts: warn`. */
  warnings: Violation[]
}

function groupByName(processes: readonly ProcessRecord[], own: ReadonlySet<string>): Map<string, ProcessRecord[]> {
  const groups = new Map<string, ProcessRecord[]>()
  for (const p of processes) {
    if (own.has(p.name)) continue
    const list = groups.get(p.name)
    if (list) list.push(p)
    else groups.set(p.name, [p])
  }
  return groups
}

/**
 * Compares other apps' processes. Per name: the count; each process that was online
 * (by pm_id) is still there and online; and none restarted (pid or restart count moved).
 */
export function checkIsolation(
  before: readonly ProcessRecord[],
  after: readonly ProcessRecord[],
  ownNames: ReadonlySet<string>,
  foreignRestarts: 'fail' | 'warn'
): IsolationResult {
  const violations: Violation[] = []
  const warnings: Violation[] = []
  const b = groupByName(before, ownNames)
  const a = groupByName(after, ownNames)
  const names = [...new Set([...b.keys(), ...a.keys()])].sort()
  for (const name of names) {
    const was = b.get(name) ?? []
    const now = a.get(name) ?? []
    if (was.length !== now.length) {
      violations.push({ kind: 'count-changed', name, detail: `${was.length} process(es) before, ${now.length} after` })
    }
    const nowById = new Map(now.map((p) => [p.pmId, p]))
    for (const p of was) {
      const q = nowById.get(p.pmId)
      if (p.status === 'online' && (!q || q.status !== 'online')) {
        violations.push({
          kind: 'went-offline',
          name,
          detail: `pm_id ${p.pmId} was online, now ${q ? q.status : 'gone'}`
        })
        continue
      }
      if (q && (q.pid !== p.pid || q.restarts !== p.restarts)) {
        const v: Violation = {
          kind: 'restarted',
          name,
          detail: `pm_id ${p.pmId} restarted (pid ${p.pid} → ${q.pid}, restarts ${p.restarts} → ${q.restarts})`
        }
        ;(foreignRestarts === 'warn' ? warnings : violations).push(v)
      }
    }
  }
  return { violations, warnings }
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.name}: ${v.detail}`).join('; ')
}

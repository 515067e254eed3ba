// Which run directories of the default snapshot dir to remove: the newest `keep` runs
// stay, the current run's always stays, and nothing that is not a run directory (a
// name this action did not make) is ever selected. Pure: names in, names out.

/** Run directory names start with the UTC time they were made, so names sort by age. */
const RUN_DIR_NAME = /^\d{8}T\d{6}\d{3}Z-[\w.-]+$/

export const KEEP_RUNS = 100

/** The name of a run's directory: its start time (UTC, ms), then the run tag. */
export function runDirName(startedAt: Date, runTag: string): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('.', '') // 20261123T143000123Z
  return `${stamp}-${runTag.replace(/[^\w.-]/g, '_')}`
}

export function isRunDirName(name: string): boolean {
  return RUN_DIR_NAME.test(name)
}

/** The run directories to remove so that the newest `keep` runs (the current one always among them) remain. */
export function runsToRemove(names: readonly string[], current: string, keep: number = KEEP_RUNS): string[] {
  const runs = [...new Set(names.filter(isRunDirName))].sort().reverse()
  const kept = new Set(runs.slice(0, Math.max(0, keep)))
  if (kept.has(current) || !runs.includes(current)) {
    return runs.filter((n) => !kept.has(n) && n !== current)
  }
  // The current run is older than the newest `keep` (a clock set back): it stays, and counts among them.
  const keptWithCurrent = new Set([current, ...runs.filter((n) => n !== current).slice(0, Math.max(0, keep - 1))])
  return runs.filter((n) => !keptWithCurrent.has(n))
}

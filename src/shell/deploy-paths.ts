// The deploy's paths as the file system resolves them, for the identity check (core/identity.ts):
// each path's real form and every symlink on it, with where that symlink leads.
import fs from 'node:fs'
import path from 'node:path'
import type { DeployPath, LinkOnPath } from '../core/identity.js'
import type { OwnNamedProcess } from '../core/identity.js'
import type { ProcessRecord } from '../core/process-record.js'
import { processCwd } from './proc.js'

const realOrNull = (p: string): string | null => {
  try {
    return fs.realpathSync(p)
  } catch {
    return null
  }
}

const isLink = (p: string): boolean => {
  try {
    return fs.lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

/** One absolute path: its real form (the longest existing prefix resolved, the rest kept) and the symlinks on it. */
export function resolveDeployPath(role: string, p: string): DeployPath {
  const abs = path.resolve(p)
  const { root } = path.parse(abs)
  const parts = abs.slice(root.length).split(path.sep).filter(Boolean)
  const links: LinkOnPath[] = []
  let real = root
  let current = root
  for (const [i, part] of parts.entries()) {
    current = path.join(current, part)
    if (isLink(current)) links.push({ link: current, realParent: realOrNull(path.dirname(current)) ?? path.dirname(current), realTarget: realOrNull(current) })
    const resolved = realOrNull(current)
    if (resolved === null) {
      real = path.join(real, ...parts.slice(i))
      break
    }
    real = resolved
  }
  return { role, path: abs, real, links }
}

/** The real form of a path from the process list: a script or cwd since removed keeps its resolved parent. */
const realPath = (p: string | null): string | null => (p === null || !path.isAbsolute(p) ? p : resolveDeployPath('', p).real)

/** Every process with an own name, with its real cwd (the OS's, else PM2's resolved) and real script. */
export function ownNamedProcesses(processes: readonly ProcessRecord[], own: ReadonlySet<string>): OwnNamedProcess[] {
  return processes
    .filter((p) => own.has(p.name))
    .map((p) => ({ pmId: p.pmId, name: p.name, pid: p.pid, cwd: processCwd(p.pid) ?? realPath(p.cwd), script: realPath(p.script) }))
}

// Finding the host's pm2: the executable named by `pm2-path`, and the pm2 package behind it.
import { UserError } from '../../core/errors.js'
import fs from 'node:fs'
import path from 'node:path'
import { findOnPath, isExecutableFile } from '../which.js'

export class Pm2NotFoundError extends UserError {}

/** The absolute path of the pm2 executable, searched on PATH when `pm2-path` is a bare name. */
export function locatePm2Executable(pm2Path: string, envPath: string | undefined): string {
  const hint =
    'Set the `pm2-path` input to the full path of pm2 as the daemon\'s user sees it ' +
    '(run `command -v pm2` in a login shell on the host; with nvm it is like ~/.nvm/versions/node/v20.x/bin/pm2).'
  if (pm2Path.includes('/')) {
    const abs = path.resolve(pm2Path)
    if (isExecutableFile(abs)) return abs
    throw new Pm2NotFoundError(`pm2 not found: "${abs}" is not an executable file. ${hint}`)
  }
  const found = findOnPath(pm2Path, envPath)
  if (found) return found
  throw new Pm2NotFoundError(
    `pm2 not found: "${pm2Path}" is not on the runner's PATH. A runner installed as a service has a fixed PATH ` +
      `that often lacks nvm's bin directory. ${hint}`
  )
}

/** The root of the pm2 package the executable belongs to, or null for a wrapper script. */
export function locatePm2Package(executable: string): string | null {
  let dir: string
  try {
    dir = path.dirname(fs.realpathSync(executable))
  } catch {
    return null
  }
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }
      if (pkg.name === 'pm2') return dir
    } catch {
      // not here: look one level up
    }
    dir = path.dirname(dir)
  }
  return null
}

export function readPm2PackageVersion(root: string | null): string | null {
  if (!root) return null
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? null
  } catch {
    return null
  }
}

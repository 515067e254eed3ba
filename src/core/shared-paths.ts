// `shared` (promise 15): the paths inside a release that live in shared-dir instead, as data.
// Pure: the input's entries in, each as a relative path and whether it is a directory.
import path from 'node:path'

export interface SharedPath {
  /** Relative to the release (and to shared-dir), normalised, no trailing slash. */
  rel: string
  /** A trailing `/` in the input marks a directory: a missing one is created. */
  dir: boolean
}

/** The entries of `shared` as paths, or the problems (a path that leaves the release, or is the release itself). */
export function parseSharedPaths(entries: readonly string[]): { paths: SharedPath[]; problems: string[] } {
  const paths: SharedPath[] = []
  const problems: string[] = []
  for (const raw of entries) {
    const entry = raw.trim()
    if (!entry) continue
    const dir = entry.endsWith('/')
    const rel = path.posix.normalize(entry.replace(/\/+$/, ''))
    if (path.posix.isAbsolute(entry) || rel === '..' || rel.startsWith('../')) {
      problems.push(`shared: ${entry} leaves the release: give a path inside it, such as \`.env\` or \`uploads/\``)
    } else if (rel === '.' || rel === '') {
      problems.push(`shared: ${entry} is the release itself: name the files and directories inside it that outlive releases (\`.env\`, \`uploads/\`)`)
    } else if (paths.some((p) => p.rel === rel)) {
      continue
    } else if (paths.some((p) => rel.startsWith(p.rel + '/') || p.rel.startsWith(rel + '/'))) {
      problems.push(`shared: ${entry} overlaps another shared path: list a directory or the paths inside it, not both`)
    } else {
      paths.push({ rel, dir })
    }
  }
  return { paths, problems }
}

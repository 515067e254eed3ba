// The last lines of a process's log files, read straight from disk (no pm2 call).
import fs from 'node:fs'

export function tailFile(file: string, lines: number, maxBytes = 256 * 1024): string[] {
  if (lines <= 0) return []
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch {
    return []
  }
  try {
    const size = fs.fstatSync(fd).size
    const length = Math.min(size, maxBytes)
    const buf = Buffer.alloc(length)
    fs.readSync(fd, buf, 0, length, size - length)
    const all = buf.toString('utf8').split(/\r?\n/)
    if (all[all.length - 1] === '') all.pop()
    return all.slice(-lines)
  } finally {
    fs.closeSync(fd)
  }
}

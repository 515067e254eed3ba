// The audit log: one JSON line per deploy attempt, appended. Each record is written
// with a single write(2) on an O_APPEND descriptor, which the kernel keeps whole
// against other appenders on a local file system.
import fs from 'node:fs'
import path from 'node:path'

export function appendAudit(file: string, record: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8')
  const fd = fs.openSync(file, 'a', 0o640)
  try {
    fs.writeSync(fd, line, 0, line.length)
  } finally {
    fs.closeSync(fd)
  }
}

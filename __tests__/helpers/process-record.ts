// A ProcessRecord for pure tests: plain defaults, overridden field by field.
import type { ProcessRecord } from '../../src/shell/pm2/process-list.js'

export function processRecord(over: Partial<ProcessRecord> & Pick<ProcessRecord, 'pmId' | 'name'>): ProcessRecord {
  return {
    namespace: 'default',
    pid: 1000 + over.pmId,
    status: 'online',
    restarts: 0,
    unstableRestarts: 0,
    startedAt: null,
    execMode: 'fork',
    instances: 1,
    interpreter: 'node',
    script: `/srv/${over.name}/server.js`,
    cwd: `/srv/${over.name}`,
    outLog: null,
    errLog: null,
    memory: null,
    cpu: null,
    ...over
  }
}

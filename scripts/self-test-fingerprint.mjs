#!/usr/bin/env node
// For the self-test workflows: reads `pm2 jlist` on stdin and prints one line per process
// that is not named on the command line (the deploy's own names): name, pm_id, pid,
// restarts and status, sorted. Two runs compare with `diff`. Prints no environment.
let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => {
  const own = new Set(process.argv.slice(2))
  const lines = JSON.parse(input)
    .filter((p) => !own.has(p.name))
    .map((p) => [p.name, p.pm_id, p.pid, p.pm2_env.restart_time, p.pm2_env.status].join(' '))
    .sort()
  if (lines.length === 0) {
    console.error('no other processes: the self-test would prove nothing')
    process.exit(1)
  }
  process.stdout.write(lines.join('\n') + '\n')
})

// Loaded with `node --import` into a measured process: on exit, writes the CPU time of
// the process and of every child it waited for (pm2 CLI runs, the ecosystem reader),
// and its peak memory, to $BENCH_USAGE_FILE.
import fs from 'node:fs'

const out = process.env.BENCH_USAGE_FILE
if (out) {
  process.on('exit', () => {
    const self = process.cpuUsage()
    // /proc/self/stat fields 16 and 17: cutime, cstime of waited-for children, in clock ticks.
    const stat = fs.readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = 100
    const children = (Number(fields[13]) + Number(fields[14])) / ticks
    fs.writeFileSync(
      out,
      JSON.stringify({
        selfCpuSeconds: (self.user + self.system) / 1e6,
        childrenCpuSeconds: children,
        maxRssMb: process.resourceUsage().maxRSS / 1024
      })
    )
  })
}

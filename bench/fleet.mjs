// Bench 9 (issue 18): a fleet of 3 hosts over loopback sshd against three single-host remote
// deploys of the same hosts, one after the other (alternating); and, with the second host's
// release crash-looping, the time from that host detecting the failure (the end of its own
// verification, from its report) to every switched host back and verified (the end of the first
// host's fleet rollback, from that host's report). Needs root (throwaway users) and sshd.
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { newSshHost } from './remote.mjs'

const SSHD = '/usr/sbin/sshd'
const STABLE_SECONDS = 2

function parseCommandFile(text) {
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^([^=<]+)<<(.+)$/)
    if (!m) continue
    const value = []
    while (++i < lines.length && lines[i] !== m[2]) value.push(lines[i])
    out[m[1]] = value.join('\n')
  }
  return out
}

let counter = 0
/** The bundled action as a hosted runner runs it (as root, over ssh); resolves with its time and outputs, whatever the result. */
function runStep(MAIN, dir, inputs) {
  const runDir = fs.mkdtempSync(path.join(dir, `fleet-step-${++counter}-`))
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, RUNNER_TEMP: path.join(runDir, 'tmp'), GITHUB_WORKSPACE: runDir }
  for (const f of ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    env[f] = path.join(runDir, f.toLowerCase())
    fs.writeFileSync(env[f], '')
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = String(v)
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(process.execPath, [MAIN], { env, cwd: runDir, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const outputs = parseCommandFile(fs.readFileSync(env.GITHUB_OUTPUT, 'utf8'))
      fs.rmSync(runDir, { recursive: true, force: true })
      resolve({ ms, outputs, out })
    })
  })
}

async function must(step, result) {
  const r = await step
  if (r.outputs.result !== result) throw new Error(`expected ${result}, got ${r.outputs.result}:\n${r.out.slice(-4000)}`)
  return r
}

/** ~/app/releases/<name>: an idle app that, with `crash`, exits 0.3 s after each start. */
function writeRelease(host, APPS, name, crash) {
  const dir = path.join(host.home, 'app', 'releases', name)
  fs.mkdirSync(dir, { recursive: true })
  const idle = fs.readFileSync(path.join(APPS, 'idle.cjs'), 'utf8')
  fs.writeFileSync(path.join(dir, 'idle.cjs'), `${crash ? 'setTimeout(() => process.exit(3), 300)\n' : ''}${idle}`)
  fs.writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [{ name: 'bench-api', script: 'idle.cjs', cwd: __dirname }, { name: 'bench-worker', script: 'idle.cjs', cwd: __dirname }] }\n`)
  host.chown()
}

const readReport = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))

/** When a run ended `phase`: its report's start plus every phase up to and including it (phases run back to back). */
function phaseEndAt(report, phase) {
  let t = Date.parse(report.startedAt)
  for (const [name, ms] of Object.entries(report.timings)) {
    if (name === 'total') continue
    t += ms
    if (name === phase) return t
  }
  throw new Error(`the run has no phase ${phase}: ${Object.keys(report.timings).join(', ')}`)
}

export async function benchFleet({ ROOT, MAIN, APPS, ROUNDS, row, median }) {
  console.log('9. a fleet of 3 hosts over loopback sshd')
  if (process.getuid?.() !== 0 || !fs.existsSync(SSHD)) {
    row('Fleet of 3 vs three single-host remote deploys', 'not run: needs root (throwaway users) and /usr/sbin/sshd', '≤ 1.05×', 'not run')
    return
  }
  const hosts = []
  try {
    for (let i = 0; i < 3; i++) hosts.push(await newSshHost(ROOT))
    for (const h of hosts) h.pm2(['ping'])
    // One key for the fleet, as a workflow has: the first host's client key is let in everywhere.
    for (const h of hosts.slice(1)) fs.copyFileSync(path.join(hosts[0].dir, 'client.pub'), path.join(h.dir, 'auth', h.user))
    const common = {
      app: 'bench',
      ecosystem: 'ecosystem.config.js',
      'current-link': '~/app/current',
      'stable-seconds': STABLE_SECONDS,
      'pm2-path': path.join(ROOT, 'node_modules', '.bin', 'pm2'),
      'audit-log': 'off',
      'ssh-key': hosts[0].clientKey,
      'ssh-known-hosts': hosts.map((h) => h.knownHosts).join('')
    }
    const fleetOf = (release, extra = {}) => ({ ...common, 'release-dir': `~/app/releases/${release}`, 'ssh-host': hosts.map((h) => h.label).join('\n'), ...extra })
    const single = (h, release) => ({ ...common, 'release-dir': `~/app/releases/${release}`, 'ssh-host': h.label })
    for (const h of hosts) for (const r of ['base', 'good']) writeRelease(h, APPS, r, false)
    await must(runStep(MAIN, hosts[0].dir, fleetOf('base')), 'deployed')
    await must(runStep(MAIN, hosts[0].dir, fleetOf('good')), 'deployed')

    // 1. Same work both ways: a redeploy of the live release on each host, alternating.
    const fleetMs = []
    const singlesMs = []
    for (let i = 0; i < ROUNDS; i++) {
      fleetMs.push((await must(runStep(MAIN, hosts[0].dir, fleetOf('good')), 'deployed')).ms)
      let sum = 0
      for (const h of hosts) sum += (await must(runStep(MAIN, hosts[0].dir, single(h, 'good')), 'deployed')).ms
      singlesMs.push(sum)
    }
    const ratio = median(fleetMs) / median(singlesMs)
    row(
      `Fleet of 3 over loopback SSH vs three single-host remote deploys one after the other (2-process app, stable-seconds ${STABLE_SECONDS}; median of ${ROUNDS} alternating rounds)`,
      `${Math.round(median(fleetMs))} ms vs ${Math.round(median(singlesMs))} ms = **${ratio.toFixed(2)}×**`,
      '≤ 1.05×',
      ratio <= 1.05 ? 'met' : 'missed'
    )

    // 2. The second host's release crash-loops: failure detected → every switched host back and verified.
    const backMs = []
    const fromOutcomeMs = []
    const rollbackPhaseMs = []
    for (let i = 0; i < ROUNDS; i++) {
      const [good, bad] = [`good-${i}`, `bad-${i}`]
      hosts.forEach((h, k) => {
        writeRelease(h, APPS, good, false)
        writeRelease(h, APPS, bad, k === 1)
      })
      await must(runStep(MAIN, hosts[0].dir, fleetOf(good)), 'deployed')
      const r = await must(runStep(MAIN, hosts[0].dir, fleetOf(bad)), 'rolled-back')
      const out = JSON.parse(r.outputs.hosts)
      const failing = readReport(out[hosts[1].label].report)
      const firstBack = readReport(out[hosts[0].label].report)
      if (firstBack.result !== 'deployed' || !/^fleet rollback:/.test(firstBack.message)) throw new Error(`the first host's newest report is not its verified fleet rollback: ${firstBack.message}`)
      // Detected: the failing host's verification failed. Back and verified: the first host's own processes verified, and other apps unchanged.
      const detected = phaseEndAt(failing, 'Verify own processes')
      const verified = phaseEndAt(firstBack, 'Isolation check')
      backMs.push(verified - detected)
      // The same span as the runner sees it: from the failing host's outcome (its own rollback done) to the first host verified.
      fromOutcomeMs.push(verified - Date.parse(failing.finishedAt))
      rollbackPhaseMs.push(failing.timings.Rollback)
    }
    const bound = 5000 + 2 * STABLE_SECONDS * 1000
    const back = median(backMs)
    row(
      `Fleet rollback: from the second host detecting its crash-looping release to every switched host (the second itself, then the first) back on its previous release and verified (stable-seconds ${STABLE_SECONDS} each; median of ${ROUNDS})`,
      `**${(back / 1000).toFixed(1)} s** (${((back - 2 * STABLE_SECONDS * 1000) / 1000).toFixed(1)} s beyond the two hosts' stable-seconds)`,
      `≤ 5 s + 2 × ${STABLE_SECONDS} s`,
      back <= bound ? 'met' : 'missed'
    )
    const fromOutcome = median(fromOutcomeMs)
    row(
      `Fleet rollback as the runner sees it: from the failing host's outcome (its own rollback already verified, ${(median(rollbackPhaseMs) / 1000).toFixed(1)} s after it detected the failure) to the first host back and verified`,
      `**${(fromOutcome / 1000).toFixed(1)} s** (${((fromOutcome - STABLE_SECONDS * 1000) / 1000).toFixed(1)} s beyond its stable-seconds)`,
      `≤ 5 s + ${STABLE_SECONDS} s`,
      fromOutcome <= 5000 + STABLE_SECONDS * 1000 ? 'met' : 'missed'
    )
  } finally {
    for (const h of hosts) h.destroy()
  }
}

const BATCH_STABLE_SECONDS = 5

/**
 * Bench 11 (issue 25): four hosts, stable-seconds 5: `hosts-per-batch: 1, 100%` against the
 * default one at a time, alternating rounds; and the same fleet with the third host's release
 * crash-looping (batch 2): from that host detecting it (the end of its verification, from its
 * report) to every switched host back and verified (the latest end of a fleet rollback's
 * isolation check, from the hosts' reports).
 */
export async function benchBatches({ ROOT, MAIN, APPS, ROUNDS, row, median }) {
  console.log('11. a fleet of 4 hosts in batches (1, 100%) vs one at a time, over loopback sshd')
  if (process.getuid?.() !== 0 || !fs.existsSync(SSHD)) {
    row('Fleet of 4 in batches `1, 100%` vs one at a time', 'not run: needs root (throwaway users) and /usr/sbin/sshd', '≤ 0.65×', 'not run')
    return
  }
  const hosts = []
  try {
    for (let i = 0; i < 4; i++) hosts.push(await newSshHost(ROOT))
    for (const h of hosts) h.pm2(['ping'])
    for (const h of hosts.slice(1)) fs.copyFileSync(path.join(hosts[0].dir, 'client.pub'), path.join(h.dir, 'auth', h.user))
    const common = {
      app: 'bench',
      ecosystem: 'ecosystem.config.js',
      'current-link': '~/app/current',
      'stable-seconds': BATCH_STABLE_SECONDS,
      'pm2-path': path.join(ROOT, 'node_modules', '.bin', 'pm2'),
      'audit-log': 'off',
      'ssh-key': hosts[0].clientKey,
      'ssh-known-hosts': hosts.map((h) => h.knownHosts).join(''),
      'ssh-host': hosts.map((h) => h.label).join('\n')
    }
    const fleetOf = (release, perBatch) => ({ ...common, 'release-dir': `~/app/releases/${release}`, 'hosts-per-batch': perBatch })
    for (const h of hosts) for (const r of ['base', 'good']) writeRelease(h, APPS, r, false)
    await must(runStep(MAIN, hosts[0].dir, fleetOf('base', '1, 100%')), 'deployed')
    await must(runStep(MAIN, hosts[0].dir, fleetOf('good', '1, 100%')), 'deployed')

    // 1. Same work both ways: a redeploy of the live release on each host, alternating.
    const rounds = Math.min(ROUNDS, 3)
    const batchedMs = []
    const serialMs = []
    for (let i = 0; i < rounds; i++) {
      batchedMs.push((await must(runStep(MAIN, hosts[0].dir, fleetOf('good', '1, 100%')), 'deployed')).ms)
      serialMs.push((await must(runStep(MAIN, hosts[0].dir, fleetOf('good', '1')), 'deployed')).ms)
    }
    const ratio = median(batchedMs) / median(serialMs)
    row(
      `Fleet of 4 over loopback SSH, \`hosts-per-batch: 1, 100%\` vs the default one at a time (2-process app, stable-seconds ${BATCH_STABLE_SECONDS}; median of ${rounds} alternating rounds)`,
      `${Math.round(median(batchedMs))} ms vs ${Math.round(median(serialMs))} ms = **${ratio.toFixed(2)}×**`,
      '≤ 0.65×',
      ratio <= 0.65 ? 'met' : 'missed'
    )

    // 2. The third host (batch 2) crash-loops: detected → every switched host back and verified.
    const backMs = []
    const ownMs = []
    const batchBackMs = { 1: [], 2: [] }
    for (let i = 0; i < rounds; i++) {
      const [good, bad] = [`good-b${i}`, `bad-b${i}`]
      hosts.forEach((h, k) => {
        writeRelease(h, APPS, good, false)
        writeRelease(h, APPS, bad, k === 2)
      })
      await must(runStep(MAIN, hosts[0].dir, fleetOf(good, '1, 100%')), 'deployed')
      const r = await must(runStep(MAIN, hosts[0].dir, fleetOf(bad, '1, 100%')), 'rolled-back')
      const out = JSON.parse(r.outputs.hosts)
      const failing = readReport(out[hosts[2].label].report)
      const detected = phaseEndAt(failing, 'Verify own processes')
      ownMs.push(Date.parse(failing.finishedAt) - detected)
      let verified = 0
      for (const [k, h] of hosts.entries()) {
        if (k === 2) continue
        const rep = readReport(out[h.label].report)
        // A host of batch 2 stopped before its switch has no fleet rollback: nothing to wait for there.
        if (!/^fleet rollback:/.test(rep.message)) continue
        if (rep.result !== 'deployed') throw new Error(`${h.label}: its fleet rollback ended ${rep.result}`)
        const end = phaseEndAt(rep, 'Isolation check')
        batchBackMs[k === 0 ? 1 : 2].push(end - detected)
        verified = Math.max(verified, end)
      }
      backMs.push(Math.max(0, verified - detected))
    }
    const back = median(backMs)
    row(
      `Fleet of 4 in batches \`1, 100%\`, the third host's release crash-looping: from its detection to every switched host back on its previous release and verified, a batch at once (stable-seconds ${BATCH_STABLE_SECONDS}; median of ${rounds})`,
      `**${(back / 1000).toFixed(1)} s** (${((back - BATCH_STABLE_SECONDS * 1000) / 1000).toFixed(1)} s beyond one stable-seconds; after detection: the failing host's own rollback verified at ${(median(ownMs) / 1000).toFixed(1)} s, batch 2 back and verified at ${(median(batchBackMs[2]) / 1000).toFixed(1)} s, batch 1 at ${(median(batchBackMs[1]) / 1000).toFixed(1)} s)`,
      `≤ 5 s + ${BATCH_STABLE_SECONDS} s`,
      back <= 5000 + BATCH_STABLE_SECONDS * 1000 ? 'met' : 'missed'
    )
  } finally {
    for (const h of hosts) h.destroy()
  }
}

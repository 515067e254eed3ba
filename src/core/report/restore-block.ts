// The restore hints as the summary and the log show them: what is wrong, the commands to run.
import type { DeployReport, RestoreHint } from '../report-schema.js'
import { md, mdCode, mdFence, mdInline } from './markdown.js'
import { ARGS_NOT_RECORDED } from './restore.js'

/** What is wrong with a restore hint's app and what its command does. */
export function hintAction(h: RestoreHint): string {
  const where = [h.execMode, h.namespace !== 'default' ? `namespace ${h.namespace}` : ''].filter(Boolean).join(', ')
  switch (h.kind) {
    case 'start':
      return `${h.missing === 1 ? 'its process is' : `its ${h.missing} processes are`} gone → start it again from the snapshot (${where})`
    case 'scale':
      return `${h.missing} of its ${h.before} processes gone → scale it back to ${h.before}`
    case 'restart':
      return 'still listed, no longer online → restart it'
    case 'resurrect':
      return h.command
        ? `gone → \`pm2 resurrect\` starts them from PM2's saved process list (saved ${h.dumpSavedAt ?? '?'}): ${(h.wouldStart ?? []).join(', ')}`
        : 'gone with the PM2 daemon, and no saved process list to bring them back from'
  }
}

export function restoreBlock(report: DeployReport, style: 'md' | 'log'): string[] {
  if (report.restore.length === 0) return []
  const out: string[] = []
  const commands = report.restore.filter((h) => h.command).map((h) => h.command!)
  const general = [...new Set(report.restore.flatMap((h) => h.caveats.filter((c) => c === ARGS_NOT_RECORDED)))]
  const specific = (h: RestoreHint) => h.caveats.filter((c) => c !== ARGS_NOT_RECORDED)
  if (style === 'md') {
    out.push('', '### Restore the other apps', '')
    for (const h of report.restore) {
      out.push(`- ${mdCode(h.name)}: ${md(hintAction(h))}${h.command ? '' : ' — **no safe one-line command**'}`)
      for (const c of specific(h)) out.push(`  - ${mdInline(c)}`)
    }
    if (commands.length > 0) {
      out.push('', "Run on the host, as the user who owns the PM2 daemon:", '', ...mdFence(commands, 'sh'))
    }
    for (const c of general) out.push('', `${mdInline(c)}`)
  } else {
    out.push('', "Restore the other apps (from the before-snapshot):")
    for (const h of report.restore) {
      out.push(`  - ${h.name}: ${hintAction(h)}${h.command ? '' : ' (no safe one-line command)'}`)
      for (const c of specific(h)) out.push(`      ${c}`)
    }
    if (commands.length > 0) {
      out.push("  Run on the host, as the user who owns the PM2 daemon:")
      for (const c of commands) out.push(`    ${c}`)
    }
    for (const c of general) out.push(`  ${c}`)
  }
  return out
}


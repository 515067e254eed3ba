// The deploy report (the `report` output), and what a person reads of it: the job summary,
// the same verdict and tables in the log (Gitea before 1.27 shows no summary), the
// annotation, and the restore hint. Pure: data in, text out. No environment values: only
// the report's fixed fields are rendered. One module per concern in ./report/.
export {
  REPORT_SCHEMA_VERSION,
  DeployReportSchema,
  type CheckRecord,
  type CommandRecord,
  type DeployReport,
  type DeployResult,
  type RestoreHint
} from './report-schema.js'
export { shellCommand, shellQuote } from './report/shell-quote.js'
export { DAEMON_GONE_TITLE, daemonGoneMessage } from './report/daemon-gone.js'
export { ARGS_NOT_RECORDED, restoreHints, type DumpSummary, type RestoreInput } from './report/restore.js'
export { isSafetyAbort, nextSteps, verdictHeadline } from './report/verdict.js'
export { fmtMem, fmtMs, fmtUptime, otherRows, ownRows, type OtherRow, type OwnRow } from './report/tables.js'
export { hintAction } from './report/restore-block.js'
export { renderSummary } from './report/summary.js'
export { renderLogVerdict } from './report/log.js'
export { renderAnnotation } from './report/annotation.js'

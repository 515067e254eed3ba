// Who deployed what, from where: the fields the report and audit record carry (collected by shell/metadata.ts).
export interface WorkflowMetadata {
  platform: 'gitea' | 'github' | 'local'
  repository: string | null
  workflow: string | null
  workflowRef: string | null
  workflowSha: string | null
  workflowFile: string | null
  workflowFileSha256: string | null
  runId: string | null
  runNumber: string | null
  runAttempt: string | null
  runUrl: string | null
  job: string | null
  event: string | null
  ref: string | null
  sha: string | null
  actor: string | null
  runner: string | null
  runnerOs: string | null
  host: string
  user: string
  actionVersion: string
  nodeVersion: string
  pm2CliVersion: string | null
  pm2DaemonVersion: string | null
  pm2Home: string
  pm2ReadPath: 'rpc' | 'cli' | null
}

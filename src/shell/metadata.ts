// Promise 2: who deployed what, from where. Every variable is optional (Gitea sets
// no GITHUB_WORKFLOW_REF or GITHUB_WORKFLOW_SHA).
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type { WorkflowMetadata } from '../core/workflow-metadata.js'
export type { WorkflowMetadata }

const v = (env: NodeJS.ProcessEnv, key: string): string | null => {
  const value = env[key]
  return value === undefined || value === '' ? null : value
}

/**
 * The workflow file that is running, inside the workspace. GitHub names it in
 * GITHUB_WORKFLOW_REF (owner/repo/.github/workflows/x.yml@ref); Gitea only in
 * GITHUB_WORKFLOW, which is the file name when the workflow has no `name:`.
 */
export function findWorkflowFile(env: NodeJS.ProcessEnv): string | null {
  const workspace = v(env, 'GITHUB_WORKSPACE')
  if (!workspace) return null
  const candidates: string[] = []
  const ref = v(env, 'GITHUB_WORKFLOW_REF')
  const m = ref?.match(/^[^/]+\/[^/]+\/(.+?)@/)
  if (m?.[1]) candidates.push(m[1])
  const wf = v(env, 'GITHUB_WORKFLOW')
  if (wf && /\.ya?ml$/.test(wf)) candidates.push(`.gitea/workflows/${wf}`, `.github/workflows/${wf}`, wf)
  for (const rel of candidates) {
    const full = path.resolve(workspace, rel)
    if (full.startsWith(path.resolve(workspace) + path.sep) && fs.existsSync(full)) return full
  }
  return null
}

export function collectMetadata(
  env: NodeJS.ProcessEnv,
  extra: { actionVersion: string; pm2CliVersion: string | null; pm2DaemonVersion: string | null; pm2Home: string; pm2ReadPath: 'rpc' | 'cli' | null }
): WorkflowMetadata {
  const server = v(env, 'GITHUB_SERVER_URL')
  const repo = v(env, 'GITHUB_REPOSITORY')
  const runId = v(env, 'GITHUB_RUN_ID')
  const workflowFile = findWorkflowFile(env)
  let workflowFileSha256: string | null = null
  if (workflowFile) {
    try {
      workflowFileSha256 = crypto.createHash('sha256').update(fs.readFileSync(workflowFile)).digest('hex')
    } catch {
      workflowFileSha256 = null
    }
  }
  let user = v(env, 'USER') ?? 'unknown'
  try {
    user = os.userInfo().username
  } catch {
    // keep $USER
  }
  return {
    platform: env.GITEA_ACTIONS === 'true' ? 'gitea' : env.GITHUB_ACTIONS === 'true' ? 'github' : 'local',
    repository: repo,
    workflow: v(env, 'GITHUB_WORKFLOW'),
    workflowRef: v(env, 'GITHUB_WORKFLOW_REF'),
    workflowSha: v(env, 'GITHUB_WORKFLOW_SHA'),
    workflowFile: workflowFile && env.GITHUB_WORKSPACE ? path.relative(env.GITHUB_WORKSPACE, workflowFile) : null,
    workflowFileSha256,
    runId,
    runNumber: v(env, 'GITHUB_RUN_NUMBER'),
    runAttempt: v(env, 'GITHUB_RUN_ATTEMPT'),
    runUrl: server && repo && runId ? `${server}/${repo}/actions/runs/${runId}` : null,
    job: v(env, 'GITHUB_JOB'),
    event: v(env, 'GITHUB_EVENT_NAME'),
    ref: v(env, 'GITHUB_REF'),
    sha: v(env, 'GITHUB_SHA'),
    actor: v(env, 'GITHUB_ACTOR'),
    runner: v(env, 'RUNNER_NAME'),
    runnerOs: v(env, 'RUNNER_OS'),
    host: os.hostname(),
    user,
    actionVersion: extra.actionVersion,
    nodeVersion: process.version,
    pm2CliVersion: extra.pm2CliVersion,
    pm2DaemonVersion: extra.pm2DaemonVersion,
    pm2Home: extra.pm2Home,
    pm2ReadPath: extra.pm2ReadPath
  }
}

// src/runner.ts speaks the runner protocol exactly as @actions/core does: same log
// lines, same file commands. Both run here side by side and their output is compared.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as actionsCore from '@actions/core'
import { afterEach, beforeEach, expect, test } from 'vitest'
import * as ours from '../src/runner.js'

type Core = Pick<typeof ours, 'info' | 'warning' | 'error' | 'setFailed' | 'setOutput' | 'saveState' | 'startGroup' | 'endGroup' | 'group'>

let dir: string
const saved = { ...process.env }
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2sd-runner-'))
})
afterEach(() => {
  process.env = { ...saved }
  process.exitCode = undefined
  fs.rmSync(dir, { recursive: true, force: true })
})

async function exercise(core: Core, label: string, withFiles: boolean): Promise<{ stdout: string; output: string; state: string; exitCode: unknown }> {
  const out = path.join(dir, `${label}-output`)
  const state = path.join(dir, `${label}-state`)
  fs.writeFileSync(out, '')
  fs.writeFileSync(state, '')
  if (withFiles) {
    process.env.GITHUB_OUTPUT = out
    process.env.GITHUB_STATE = state
  } else {
    delete process.env.GITHUB_OUTPUT
    delete process.env.GITHUB_STATE
  }
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => {
    chunks.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  try {
    core.info('plain line: 100% done, a:b, c')
    core.warning('multi\nline\r\nwarning with % and :,')
    core.warning(new Error('an error object'))
    core.error('SAFETY ABORT: x changed', { title: 'pm2-safe-deploy: SAFETY ABORT, now' })
    core.error('no title')
    core.startGroup('Phase: one, two')
    core.endGroup()
    await core.group('grouped', async () => core.info('inside'))
    core.setOutput('result', 'deployed')
    core.setOutput('own-processes', ['a-test', 'b-test'])
    core.setOutput('multi', 'line one\nline two')
    core.saveState('lock-token', 'abc')
    core.setFailed('failed: because')
  } finally {
    process.stdout.write = write
  }
  const exitCode = process.exitCode
  process.exitCode = undefined
  const norm = (s: string) => s.replace(/ghadelimiter_[0-9a-f-]+/g, 'DELIM')
  return { stdout: chunks.join(''), output: norm(fs.readFileSync(out, 'utf8')), state: norm(fs.readFileSync(state, 'utf8')), exitCode }
}

test.each([true, false])('the same bytes as @actions/core (runner files set: %s)', async (withFiles) => {
  const theirs = await exercise(actionsCore as unknown as Core, 'theirs', withFiles)
  const mine = await exercise(ours, 'ours', withFiles)
  expect(mine).toEqual(theirs)
  expect(mine.exitCode).toBe(1)
  if (withFiles) expect(mine.output).toContain('own-processes<<DELIM\n["a-test","b-test"]\nDELIM')
})

test('setFailed with a title: exit code 1 and one titled annotation', () => {
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write
  try {
    ours.setFailed('SAFETY ABORT: x', { title: 'pm2-safe-deploy: SAFETY ABORT' })
  } finally {
    process.stdout.write = write
  }
  expect(process.exitCode).toBe(1)
  expect(chunks.join('')).toBe(`::error title=pm2-safe-deploy%3A SAFETY ABORT::SAFETY ABORT: x${os.EOL}`)
})

test('getState reads STATE_<name>, as the post step receives it', () => {
  process.env['STATE_lock-file'] = '/x/pm2-safe-deploy.lock'
  expect(ours.getState('lock-file')).toBe(actionsCore.getState('lock-file'))
  expect(ours.getState('missing')).toBe('')
})

test('a runner file variable naming a missing file is an error, as in @actions/core', () => {
  process.env.GITHUB_OUTPUT = path.join(dir, 'nope')
  expect(() => ours.setOutput('a', 'b')).toThrowError(/Missing file at path/)
  expect(() => actionsCore.setOutput('a', 'b')).toThrowError(/Missing file at path/)
})

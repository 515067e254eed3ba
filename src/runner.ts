// The runner protocol: the eleven functions of @actions/core this action uses, with the
// same names and the same output (setFailed also takes a title). @actions/core loads an HTTP client (undici, for OIDC
// tokens) at startup, which alone costs ~90 ms of a ~1 s deploy; this action never asks
// for a token. __tests__/runner.test.ts checks the output is byte for byte that of
// @actions/core.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'

export interface AnnotationProperties {
  title?: string
}

function toCommandValue(input: unknown): string {
  if (input === null || input === undefined) return ''
  if (typeof input === 'string' || input instanceof String) return input as string
  return JSON.stringify(input)
}

function escapeData(s: unknown): string {
  return toCommandValue(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

function escapeProperty(s: unknown): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

/** `::command key=value,…::message`, escaped as the runner parses it. */
function issueCommand(command: string, properties: Record<string, unknown>, message: unknown): void {
  let line = `::${command}`
  const props = Object.entries(properties).filter(([, v]) => v !== undefined && v !== null && v !== '')
  if (props.length > 0) line += ' ' + props.map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',')
  process.stdout.write(`${line}::${escapeData(message)}${os.EOL}`)
}

/** Appends `name<<delimiter … delimiter` to the runner's file named by GITHUB_<command>. */
function issueFileCommand(command: string, name: string, value: unknown): boolean {
  const file = process.env[`GITHUB_${command}`]
  if (!file) return false
  if (!fs.existsSync(file)) throw new Error(`Missing file at path: ${file}`)
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`
  const converted = toCommandValue(value)
  if (name.includes(delimiter)) throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`)
  if (converted.includes(delimiter)) throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`)
  fs.appendFileSync(file, `${name}<<${delimiter}${os.EOL}${converted}${os.EOL}${delimiter}${os.EOL}`, { encoding: 'utf8' })
  return true
}

export function setOutput(name: string, value: unknown): void {
  if (issueFileCommand('OUTPUT', name, value)) return
  process.stdout.write(os.EOL)
  issueCommand('set-output', { name }, toCommandValue(value))
}

export function saveState(name: string, value: unknown): void {
  if (issueFileCommand('STATE', name, value)) return
  issueCommand('save-state', { name }, toCommandValue(value))
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] || ''
}

export function info(message: string): void {
  process.stdout.write(message + os.EOL)
}

export function warning(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand('warning', { ...properties }, message instanceof Error ? message.toString() : message)
}

export function error(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand('error', { ...properties }, message instanceof Error ? message.toString() : message)
}

/**
 * Fails the step: exit code 1 when the process ends, and an error annotation. Unlike
 * @actions/core's, it takes the annotation's title, so a failure shows one titled
 * annotation instead of an untitled one and a titled copy.
 */
export function setFailed(message: string | Error, properties: AnnotationProperties = {}): void {
  process.exitCode = 1
  error(message, properties)
}

export function startGroup(name: string): void {
  issueCommand('group', {}, name)
}

export function endGroup(): void {
  issueCommand('endgroup', {}, '')
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  startGroup(name)
  try {
    return await fn()
  } finally {
    endGroup()
  }
}

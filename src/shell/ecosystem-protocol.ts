// What the ecosystem reader child prints, and how the action finds it in its stdout.

/** Prefixes the reader's one result line: the file itself may print to stdout. */
export const RESULT_MARK = '@@pm2-safe-deploy-ecosystem@@'

/** An app of the ecosystem file, as far as the action needs it. Never its env. */
export interface EcosystemApp {
  name: string
  script: string | null
  cwd: string | null
  interpreter: string | null
  execMode: string | null
  instances: number | string | null
  namespace: string | null
  /** PM2 appends `-<env>` to the name when started with `--env`: the names it creates are not the file's. */
  appendEnvToName: boolean
  /** A name prefix (`<prefix>:<name>`), declared as an app option in PM2's schema. */
  namePrefix: string | null
  /** For a swap's script start (core/swap.ts): options as PM2 CLI flags, options no flag carries, script args. */
  swap?: { flags: string[]; unsupported: string[]; args: string[] }
}

export type ReaderOutput =
  | { ok: true; apps: EcosystemApp[] }
  | { ok: false; error: string; line: number | null; column: number | null; fix: string }

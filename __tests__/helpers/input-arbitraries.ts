// Arbitrary values for every input of action.yml, for the fuzz tests: each input draws from
// its own well-formed values, a shared pool of hostile ones, and random strings. Inputs
// are listed from action.yml, so a new input is fuzzed without a change here.
import fc from 'fast-check'
import { actionYmlDefaults } from './run-action.js'

/** Stands for the per-run temp root in generated paths: the test replaces it before the run. */
export const ROOT_TOKEN = '@ROOT@'

/** Values that trip parsers and naive name handling, offered to every input. */
export const HOSTILE = [
  '',
  ' ',
  '\t',
  '\n',
  '  \n  ',
  'true',
  'FALSE',
  'yes',
  'off',
  '0',
  '-1',
  '1e9',
  '1.5',
  '0x10',
  '.5',
  '5.',
  'NaN',
  'Infinity',
  '99999999999999999999999',
  '1000000',
  'all',
  '/regex/',
  '/api/',
  'a,b',
  'a, ,b',
  ',',
  ',,,',
  '..',
  '../..',
  '.',
  './',
  '~',
  '~/x',
  '~root',
  '-',
  '--force',
  'ünïcödé',
  '名前',
  '🚀',
  'a\nb',
  'a\r\nb',
  '\u0001\u0007\u001b[31m',
  '\u2028',
  '\ufeff',
  '\u00a0',
  'x'.repeat(5000),
  // A name that fits the file system but not with a suffix added; a path of short names over PATH_MAX.
  'n'.repeat(240),
  'd/'.repeat(2100),
  'a/'.repeat(300),
  'flyer-crawler',
  'flyer-crawler-api',
  'stock-alert',
  'stock-alert-test',
  '-test',
  'http://127.0.0.1:1/health',
  'https://example.invalid/health',
  'http://[::1',
  'ftp://x',
  '$(touch pwned)',
  '`id`',
  "'; DROP TABLE x; --",
  '%ENV%',
  '${{ secrets.TOKEN }}',
  'null',
  'undefined',
  '{}',
  '[]',
  'api.json',
  'ecosystem.config.js',
  `${ROOT_TOKEN}/a-file.txt`,
  `${ROOT_TOKEN}/missing`
]

/** Well-formed values (and near misses) by input, around the sample app of the fuzz test. */
const WELL_FORMED: Record<string, readonly string[]> = {
  app: ['flyer-crawler', 'shop', 'stock-alert', 'flyer-crawler-api'],
  'environment-suffix': ['-test', '', '-staging', '-TEST'],
  whitelist: ['flyer-crawler-api, flyer-crawler-worker', 'flyer-crawler-api', 'flyer-crawler-api\nflyer-crawler-worker\n', 'shop-api', 'stock-alert', 'flyer-crawler'],
  ecosystem: ['ecosystem.json', 'ecosystem.json', 'releases/r2/ecosystem.json', 'apps.js', 'ecosystem.mjs', 'server.js', 'missing.config.js', `${ROOT_TOKEN}/ws/a/b/c/d/e/ecosystem.json`],
  'ecosystem-env': ['production', '', 'staging', 'prod env'],
  'working-directory': ['.', '.', 'releases/r2', 'releases', 'missing', 'a-file.txt', `${ROOT_TOKEN}/ws/a/b/c/d/e`],
  strategy: ['reload', 'restart', 'recreate', ' Reload ', 'bounce'],
  'stable-seconds': ['0', '0.2', '3', '10', ''],
  'timeout-seconds': ['1', '5', '120', '0.5', ''],
  'health-url': ['http://127.0.0.1:1/health', 'https://localhost/a\nhttp://localhost/b', 'localhost:3000', 'http://', 'http://[::1', 'http://%', 'http://x:99999/', 'https://a_b.example:0/'],
  'foreign-restarts': ['fail', 'warn', 'Warn', 'ignore'],
  save: ['true', 'false', 'yes', 'no', 'maybe'],
  'dry-run': ['true', 'false', 'on', 'ON ', '2'],
  'pm2-path': ['pm2', '/usr/bin/pm2', 'node_modules/.bin/pm2', '~/bin/pm2'],
  'pm2-home': ['pm2', '', `${ROOT_TOKEN}/pm2home`, 'missing-home', 'a-file.txt', '~/.pm2', `${ROOT_TOKEN}/a-file.txt/sub`],
  'lock-timeout-seconds': ['0', '1', '300'],
  'snapshot-dir': ['', '', 'runs', `${ROOT_TOKEN}/snaps`, 'a-file.txt', 'a-file.txt/sub', '~/snaps'],
  'audit-log': ['', 'off', 'OFF', 'audit.jsonl', `${ROOT_TOKEN}/audit/x.jsonl`, 'a-file.txt/x', '.', '~/audit.jsonl'],
  'log-lines': ['0', '50', '1000'],
  'require-app-prefix': ['true', 'false'],
  'current-link': ['', '', 'current', `${ROOT_TOKEN}/ws/a/b/c/d/e/current`, 'a-file.txt', 'releases/r1', 'missing/current', 'new-current'],
  'release-dir': ['', '', 'releases/r2', 'releases/r1', 'current', 'current/sub', 'releases/missing', 'a-file.txt', '.'],
  rollback: ['true', 'false'],
  'keep-releases': ['0', '1', '2', '-1'],
  shared: ['', 'uploads/', 'logs/, tmp/', '../outside', '.env'],
  'shared-dir': ['', 'shared', `${ROOT_TOKEN}/shared`, 'releases'],
  'prepare-timeout-seconds': ['900', '60', '0', 'soon'],
  // Shell text is run by `sh -e` on the host (promise 15): only these, never hostile or random text.
  prepare: ['', 'true', 'echo prepared', 'exit 3'],
  migrate: ['', 'true', 'exit 4']
}

/** Inputs whose value is run as shell commands: the fuzz never feeds them hostile or random text. */
const SHELL_TEXT = new Set(['prepare', 'migrate'])

/** Random text without NUL (an environment variable cannot hold one). */
const randomText = fc.string({
  unit: fc.oneof(fc.constantFrom('/', '.', ',', '-', ' ', '\n', '~'), fc.integer({ min: 1, max: 127 }).map((c) => String.fromCharCode(c)), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })),
  maxLength: 40
})

/** The inputs action.yml declares, by name. */
export const INPUT_NAMES: readonly string[] = Object.keys(actionYmlDefaults())

/** One arbitrary value for `name`: mostly well-formed, often hostile, sometimes random. */
export function inputValue(name: string): fc.Arbitrary<string> {
  const good = WELL_FORMED[name] ?? []
  if (SHELL_TEXT.has(name)) return fc.constantFrom(...good)
  return fc.oneof(
    ...(good.length ? [{ weight: 6, arbitrary: fc.constantFrom(...good) }] : []),
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 1, arbitrary: randomText }
  )
}

/** A valid job, around the sample app: the start each case mutates. Inputs left out get the runner's default. */
const validJob: fc.Arbitrary<Record<string, string | undefined>> = fc
  .record({
    app: fc.constant('flyer-crawler'),
    'environment-suffix': fc.constantFrom('-test', '-test', ''),
    whitelist: fc.constantFrom('flyer-crawler-api, flyer-crawler-worker', 'flyer-crawler-api', 'flyer-crawler-api\nflyer-crawler-worker\n'),
    strategy: fc.constantFrom(undefined, 'reload', 'restart', 'recreate'),
    'stable-seconds': fc.constantFrom(undefined, '0', '0.2', '3'),
    'timeout-seconds': fc.constantFrom(undefined, '30', '60'),
    'dry-run': fc.constantFrom(undefined, 'false', 'true'),
    save: fc.constantFrom(undefined, 'true', 'false'),
    'pm2-home': fc.constantFrom('pm2', `${ROOT_TOKEN}/pm2home`),
    'snapshot-dir': fc.constantFrom(undefined, '', 'runs'),
    'audit-log': fc.constantFrom(undefined, '', 'off', 'audit.jsonl'),
    source: fc.constantFrom('whitelist', 'ecosystem', 'release', 'release-keep')
  })
  .map(({ source, ...job }) => {
    if (source === 'whitelist') return job
    const file = { ...job, whitelist: undefined, ecosystem: 'ecosystem.json' }
    if (source === 'ecosystem') return file
    return { ...file, 'current-link': 'current', 'release-dir': 'releases/r2', 'keep-releases': source === 'release-keep' ? '1' : undefined }
  })

/**
 * Every input of action.yml: a valid job with a few inputs (any of them, now and then all)
 * set to arbitrary values or left out.
 */
export const anyInputs: fc.Arbitrary<Record<string, string | undefined>> = fc
  .tuple(
    validJob,
    fc.record(Object.fromEntries(INPUT_NAMES.map((name) => [name, fc.option(inputValue(name), { nil: undefined, freq: 6 })])) as Record<string, fc.Arbitrary<string | undefined>>),
    fc.oneof({ weight: 8, arbitrary: fc.subarray([...INPUT_NAMES], { maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant([...INPUT_NAMES]) })
  )
  .map(([job, values, mutated]) => {
    const out: Record<string, string | undefined> = { ...job }
    for (const name of mutated) out[name] = values[name]
    return out
  })

/** How many `..` segments a path may climb: give `rootedPath` a root 2 × MAX_UP levels below a temp dir (paths resolve against paths). */
export const MAX_UP = 2

/**
 * A generated value made safe to use as a path on this machine: ROOT_TOKEN replaced, an
 * absolute path rooted in `root`, and no more than MAX_UP `..` segments: one input resolved
 * against another (audit-log against pm2-home) climbs 2 × MAX_UP at most.
 */
export function rootedPath(value: string, root: string): string {
  let v = value.split(ROOT_TOKEN).join(root)
  const trimmed = v.trim()
  if (trimmed.startsWith('/') && !trimmed.startsWith(root)) {
    v = v.replace(trimmed, root + trimmed)
  }
  let ups = 0
  return v
    .split('/')
    .map((seg) => (seg.trim() === '..' ? (++ups > MAX_UP ? '__' : seg) : seg))
    .join('/')
}

import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ // The require scope
/******/ var __nccwpck_require__ = {};
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/compat get default export */
/******/ (() => {
/******/ 	// getDefaultExport function for compatibility with non-harmony modules
/******/ 	__nccwpck_require__.n = (module) => {
/******/ 		var getter = module && module.__esModule ?
/******/ 			() => (module['default']) :
/******/ 			() => (module);
/******/ 		__nccwpck_require__.d(getter, { a: getter });
/******/ 		return getter;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/************************************************************************/
var __webpack_exports__ = {};

;// CONCATENATED MODULE: ./src/node-version.ts
// Imported first by every entry: act_runner and Forgejo's runner run the first `node` on
// the runner's PATH whatever its version (Debian 12's is 18), so an old node gets a clear
// message here instead of a failure somewhere inside the bundle. Nothing else is imported:
// ESM evaluates imports in order, so this runs before any other module of the bundle.
const MIN_MAJOR = 20;
const found = process.versions.node;
if (Number(found.split('.')[0]) < MIN_MAJOR) {
    const message = `pm2-safe-deploy needs Node ${MIN_MAJOR} or newer, but this step runs under Node ${found} (${process.execPath}). ` +
        `Fix: add an \`actions/setup-node\` step with \`node-version: 24\` before this one, ` +
        `or put a Node ${MIN_MAJOR}+ first on the runner's PATH (act_runner and Forgejo's runner run the first \`node\` they find there).`;
    // Gitea's act_runner shows ::error lines as plain text: the message reads on its own.
    process.stdout.write(`::error title=Node ${found} is too old for pm2-safe-deploy::${message}\n`);
    process.exit(1);
}


;// CONCATENATED MODULE: external "node:child_process"
const external_node_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");
;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
var external_node_crypto_default = /*#__PURE__*/__nccwpck_require__.n(external_node_crypto_namespaceObject);
;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
var external_node_fs_default = /*#__PURE__*/__nccwpck_require__.n(external_node_fs_namespaceObject);
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
var external_node_path_default = /*#__PURE__*/__nccwpck_require__.n(external_node_path_namespaceObject);
;// CONCATENATED MODULE: external "node:url"
const external_node_url_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:url");
;// CONCATENATED MODULE: ./src/core/command-file.ts
// The runner's command files (GITHUB_OUTPUT, GITHUB_STATE) as @actions/core writes them:
// `name<<DELIMITER` … `DELIMITER` for each value (and the older `name=value`). The last value of a name wins.
function parseCommandFile(text) {
    const out = {};
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        const heredoc = line.match(/^([^=<]+)<<(.+)$/);
        if (heredoc) {
            const [, name, delim] = heredoc;
            const value = [];
            while (++i < lines.length && lines[i] !== delim)
                value.push(lines[i]);
            out[name] = value.join('\n');
        }
        else if (line.includes('=')) {
            out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./src/shell/which.ts
// Finding executables as a shell would: an executable regular file, or the first one on PATH.


function isExecutableFile(file) {
    try {
        external_node_fs_default().accessSync(file, (external_node_fs_default()).constants.X_OK);
        return external_node_fs_default().statSync(file).isFile();
    }
    catch {
        return false;
    }
}
/** `which`: the first executable file called `name` on `searchPath`. */
function findOnPath(name, searchPath) {
    for (const dir of (searchPath ?? '').split((external_node_path_default()).delimiter)) {
        if (!dir)
            continue;
        const candidate = external_node_path_default().join(dir, name);
        if (isExecutableFile(candidate))
            return candidate;
    }
    return null;
}

;// CONCATENATED MODULE: ./src/remote/bundle.ts
// The action's own bundle, shipped to a host once per content hash (promise 12): the files of
// dist/main, dist/post, dist/reader and dist/host, named by the sha256 of their list. The host
// unpacks them into a temporary directory, checks every file's sha256 and the whole hash, and
// renames the directory into ~/.cache/pm2-safe-deploy/<sha256>/: a copy cut short is never used.




const BUNDLE_PARTS = (/* unused pure expression or super */ null && (['main', 'post', 'reader', 'host']));
/** Where bundles live on a host, under the SSH user's HOME. */
const CACHE_DIR = '.cache/pm2-safe-deploy';
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
/** The hash of a file list: the same function the host's installer runs (INSTALLER below). */
function bundleHash(files) {
    return sha256([...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => `${f.path}\0${f.sha256}\n`).join(''));
}
/** dist/, found from the running bundle (dist/main/index.js or dist/post/index.js), or from the sources. */
function distRoot() {
    const candidates = [
        process.argv[1] ? path.join(path.dirname(process.argv[1]), '..') : '',
        path.join(path.dirname(fileURLToPath(import.meta.url)), '..'),
        path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist')
    ];
    const found = candidates.find((c) => c && fs.existsSync(path.join(c, 'host', 'index.js')) && fs.existsSync(path.join(c, 'main', 'index.js')));
    if (!found)
        throw new Error('cannot find the action\'s bundle (dist/main and dist/host): is the action checkout complete?');
    return found;
}
function readBundle(root = distRoot()) {
    const files = [];
    const walk = (rel) => {
        for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const r = path.posix.join(rel, e.name);
            if (e.isDirectory())
                walk(r);
            else if (e.isFile()) {
                const data = fs.readFileSync(path.join(root, r));
                files.push({ path: r, size: data.length, sha256: sha256(data) });
            }
        }
    };
    for (const part of BUNDLE_PARTS)
        walk(part);
    return { root, files, hash: bundleHash(files), bytes: files.reduce((n, f) => n + f.size, 0) };
}
/** The stream the installer reads: a JSON manifest line, then every file's bytes in manifest order. */
function packBundle(b) {
    const manifest = Buffer.from(JSON.stringify({ hash: b.hash, files: b.files }) + '\n');
    return Buffer.concat([manifest, ...b.files.map((f) => fs.readFileSync(path.join(b.root, f.path)))]);
}
/**
 * The host's installer, run as `node -e INSTALLER` (fixed code, no input in it): reads the pack
 * from stdin, writes it to a temporary directory, checks every sha256 and the bundle hash, and
 * renames the directory into place (a concurrent install of the same hash wins harmlessly).
 */
const INSTALLER = (/* unused pure expression or super */ null && (`
const fs = require('fs'), path = require('path'), crypto = require('crypto')
const sha = (d) => crypto.createHash('sha256').update(d).digest('hex')
const chunks = []
process.stdin.on('data', (c) => chunks.push(c))
process.stdin.on('end', () => {
  const all = Buffer.concat(chunks)
  const nl = all.indexOf(10)
  const m = JSON.parse(all.subarray(0, nl).toString())
  if (!/^[0-9a-f]{64}$/.test(m.hash)) throw new Error('bad bundle hash')
  const cache = path.join(process.env.HOME, '${CACHE_DIR}')
  const final = path.join(cache, m.hash)
  fs.mkdirSync(cache, { recursive: true, mode: 0o700 })
  const tmp = fs.mkdtempSync(path.join(cache, '.tmp-' + m.hash.slice(0, 12) + '-'))
  try {
    let at = nl + 1
    for (const f of m.files) {
      if (!/^[A-Za-z0-9_.-]+(\\/[A-Za-z0-9_.-]+)*$/.test(f.path) || f.path.split('/').includes('..')) throw new Error('bad path ' + f.path)
      const data = all.subarray(at, at + f.size)
      at += f.size
      if (data.length !== f.size || sha(data) !== f.sha256) throw new Error('sha256 mismatch for ' + f.path + ': the copy is incomplete or damaged')
      fs.mkdirSync(path.join(tmp, path.dirname(f.path)), { recursive: true })
      fs.writeFileSync(path.join(tmp, f.path), data, { mode: 0o600 })
    }
    const again = m.files.slice().sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => f.path + '\\0' + sha(fs.readFileSync(path.join(tmp, f.path))) + '\\n').join('')
    if (sha(again) !== m.hash) throw new Error('bundle hash mismatch after the copy')
    try { fs.renameSync(tmp, final) } catch (e) { if (!fs.existsSync(path.join(final, 'host', 'index.js'))) throw e }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  process.stdout.write('installed ' + m.hash + '\\n')
})
`));
/** The exit code of VERIFIER for a cached bundle that does not match its hash (it removed it). */
const BUNDLE_DAMAGED_EXIT = 253;
/**
 * Run as `node -e VERIFIER <hash> <agent args…>` (fixed code, no input in it) before every run the
 * runner starts: hashes every file of ~/.cache/pm2-safe-deploy/<hash>/ as the installer did and,
 * only when the whole matches, runs the agent there with the args. A truncated or altered cache is
 * removed (the runner installs it again) and never run.
 */
const VERIFIER = (/* unused pure expression or super */ null && (`
const fs = require('fs'), path = require('path'), crypto = require('crypto'), url = require('url')
const sha = (d) => crypto.createHash('sha256').update(d).digest('hex')
const hash = process.argv[1]
if (!/^[0-9a-f]{64}$/.test(hash)) { process.stderr.write('bad bundle hash\\n'); process.exit(2) }
const root = path.join(process.env.HOME, '${CACHE_DIR}', hash)
const files = []
const walk = (rel) => {
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? rel + '/' + e.name : e.name
    if (e.isDirectory()) walk(r)
    else files.push(r)
  }
}
let ok = false
try {
  for (const part of ${JSON.stringify(BUNDLE_PARTS)}) walk(part)
  const list = files.sort((a, b) => (a < b ? -1 : 1)).map((f) => f + '\\0' + sha(fs.readFileSync(path.join(root, f))) + '\\n').join('')
  ok = sha(list) === hash
} catch (e) {
  ok = false
}
if (!ok) {
  const aside = root + '.damaged-' + process.pid
  try { fs.renameSync(root, aside); fs.rmSync(aside, { recursive: true, force: true }) } catch (e) {}
  process.stderr.write('pm2-safe-deploy: the cached bundle ' + hash.slice(0, 12) + ' does not match its sha256 (truncated or altered): removed, not run\\n')
  process.exit(${253})
}
const agent = path.join(root, 'host', 'index.js')
process.argv = [process.execPath, agent, ...process.argv.slice(2)]
import(url.pathToFileURL(agent).href)
`));
/** `node -e VERIFIER <hash> <args…>`'s arguments after node: the agent of this bundle, verified first. */
function verifiedAgentArgs(hash, args) {
    return ['-e', VERIFIER, hash, ...args];
}

;// CONCATENATED MODULE: ./src/remote/protocol.ts
/** Path inputs in which a leading `~/` means the SSH user's home on the host. */
const HOST_PATH_INPUTS = ['working-directory', 'ecosystem', 'pm2-path', 'pm2-home', 'snapshot-dir', 'audit-log', 'current-link', 'release-dir', 'rollback-to'];
/** A run directory's name as the runner makes it and the agent accepts it. */
const RUN_NAME = /^[A-Za-z0-9_.-]{1,160}$/;
/** The largest frame the runner accepts: a host cannot make it buffer more (L frames are streamed, at most 1 MiB each). */
const FRAME_LIMITS = { S: 64 * 1024, L: 1 << 20, R: 16 << 20, K: 0 };
/**
 * The stream of `start` and `follow`: frames of `<kind><byte count>\n<bytes>`. S: the StartAnswer
 * (JSON); L: bytes of the host's log; K: a heartbeat (no bytes) while the log is quiet; R: the
 * HostRunResult (JSON), last. A frame cut short by a dropped connection is resumed by
 * `follow <run dir> <log bytes received>`.
 */
class FrameReader {
    on;
    header = '';
    kind = '';
    left = -1;
    body = [];
    constructor(on) {
        this.on = on;
    }
    /** Whether a frame is cut short: bytes of it are still to come. */
    get midFrame() {
        return this.left >= 0 || this.header !== '';
    }
    feed(chunk) {
        let at = 0;
        while (at < chunk.length) {
            if (this.left < 0) {
                const nl = chunk.indexOf(10, at);
                this.header += chunk.subarray(at, nl < 0 ? chunk.length : nl).toString('latin1');
                if (this.header.length > 16)
                    throw new Error(`unexpected data from the host agent: ${JSON.stringify(this.header.slice(0, 100))}`);
                if (nl < 0)
                    return;
                at = nl + 1;
                const m = this.header.match(/^([SLRK])(\d{1,9})$/);
                if (!m)
                    throw new Error(`unexpected data from the host agent: ${JSON.stringify(this.header.slice(0, 100))}`);
                this.kind = m[1];
                this.left = Number(m[2]);
                const limit = FRAME_LIMITS[this.kind];
                if (this.left > limit)
                    throw new Error(`the host agent announced a ${this.kind} frame of ${this.left} bytes (at most ${limit} accepted)`);
                this.header = '';
                this.body = [];
                if (this.left === 0) {
                    this.complete();
                    continue;
                }
            }
            const piece = chunk.subarray(at, at + this.left);
            at += piece.length;
            this.left -= piece.length;
            if (this.kind === 'L')
                this.on.log(piece);
            else
                this.body.push(piece);
            if (this.left === 0)
                this.complete();
        }
    }
    complete() {
        this.left = -1;
        if (this.kind === 'S')
            this.on.start(JSON.parse(Buffer.concat(this.body).toString()));
        if (this.kind === 'R')
            this.on.result(JSON.parse(Buffer.concat(this.body).toString()));
    }
}

;// CONCATENATED MODULE: ./src/remote/agent.ts
// The host's side of a remote deploy (dist/host/index.js, run with the node the PM2 daemon runs).
// `start` writes a run directory from the inputs on stdin and detaches a supervisor (its own
// session, no tty: a dropped connection does not stop it) that runs the same main bundle a runner
// runs, with the run directory's files as GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY,
// then the post bundle if the main step died. `follow`, `result` and `cancel` read that directory.
// Nothing here knows the deploy: it is the runner around run(), on the host.









const home = () => process.env.HOME || '/';
const runsRoot = () => external_node_path_default().join(home(), CACHE_DIR, 'runs');
/** Uploads wait here, outside every directory a deploy may use, until the run moves one into release-dir (promise 15). */
const stagingRoot = () => external_node_path_default().join(home(), CACHE_DIR, 'staging');
/** An upload no run took after a day is left over from a job that ended: removed. */
const STAGING_MAX_AGE_MS = 24 * 3600_000;
/** How often `follow` says it is alive while the log is quiet: a quiet host is not a lost one. */
const HEARTBEAT_MS = 10_000;
/** How long `cancel` waits for a signalled main step to end, to answer what it did. */
const CANCEL_WAIT_MS = 8000;
/** The bundle this agent belongs to: dist/host/index.js → the directory holding main/, post/, reader/. */
const bundleRoot = () => external_node_path_default().resolve(external_node_path_default().dirname(process.argv[1]), '..');
const KEEP_RUNS = 30;
const F = {
    inputs: 'inputs.json',
    log: 'log',
    output: 'output',
    state: 'state',
    summary: 'summary.md',
    mainPid: 'main.pid',
    mainExit: 'main.exit',
    done: 'done',
    cancel: 'cancel',
    neverStarted: 'never-started'
};
/** A leading `~/` means the SSH user's home (promise 12). */
function expandHome(value) {
    return value === '~' ? home() : value.startsWith('~/') ? external_node_path_default().join(home(), value.slice(2)) : value;
}
/** The runs this user's cache keeps: the newest KEEP_RUNS (finished ones only are removed). */
function pruneRuns() {
    let names = [];
    try {
        names = external_node_fs_default().readdirSync(runsRoot()).sort();
    }
    catch {
        return;
    }
    for (const name of names.slice(0, Math.max(0, names.length - KEEP_RUNS))) {
        const dir = external_node_path_default().join(runsRoot(), name);
        if (external_node_fs_default().existsSync(external_node_path_default().join(dir, F.done)))
            external_node_fs_default().rmSync(dir, { recursive: true, force: true });
    }
}
/** pm2 from the daemon when `pm2-path` is the default and the session's PATH has none (nvm): beside its node, or on its PATH. */
function daemonPm2(pm2Home) {
    try {
        const pid = external_node_fs_default().readFileSync(external_node_path_default().join(pm2Home, 'pm2.pid'), 'utf8').trim();
        const exe = external_node_fs_default().readlinkSync(`/proc/${pid}/exe`);
        const beside = findOnPath('pm2', external_node_path_default().dirname(exe));
        if (beside)
            return beside;
        const environ = external_node_fs_default().readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        const daemonPath = environ.find((e) => e.startsWith('PATH='))?.slice(5);
        return findOnPath('pm2', daemonPath);
    }
    catch {
        return null;
    }
}
function readStdin() {
    return new Promise((resolve, reject) => {
        const chunks = [];
        process.stdin.on('data', (c) => chunks.push(c));
        process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
        process.stdin.on('error', reject);
    });
}
/** The inputs as the host's run() reads them: `~/` expanded, pm2 found from the daemon when needed. */
function hostInputs(inputs, searchPath) {
    const out = { ...inputs };
    for (const name of HOST_PATH_INPUTS)
        if (out[name])
            out[name] = expandHome(out[name].trim());
    const pm2Input = (out['pm2-path'] ?? '').trim() || 'pm2';
    let pm2 = pm2Input.includes('/') ? pm2Input : findOnPath(pm2Input, searchPath);
    if (!pm2 && pm2Input === 'pm2') {
        const pm2Home = external_node_path_default().resolve(expandHome(out['pm2-home']?.trim() || process.env.PM2_HOME || external_node_path_default().join(home(), '.pm2')));
        pm2 = daemonPm2(pm2Home);
        if (pm2)
            out['pm2-path'] = pm2;
    }
    return { inputs: out, pm2 };
}
/** The environment of the host's main step: the session's (no SSH_*), the job's metadata, the inputs, the run's own files. */
function stepEnv(dir, payload, inputs, searchPath) {
    const env = {};
    for (const [k, v] of Object.entries(process.env))
        if (v !== undefined && !/^(SSH_|INPUT_|STATE_|GITHUB_|GITEA_|FORGEJO_|RUNNER_|ACTIONS_)/.test(k))
            env[k] = v;
    Object.assign(env, payload.env);
    // ssh-env: the step's variables, as a self-hosted runner's step env reaches run() (promise 7 passes them to pm2).
    Object.assign(env, payload.stepEnv ?? {});
    env.PATH = searchPath;
    env.GITHUB_WORKSPACE = home();
    env.RUNNER_TEMP = external_node_path_default().join(dir, 'tmp');
    env.GITHUB_OUTPUT = external_node_path_default().join(dir, F.output);
    env.GITHUB_STATE = external_node_path_default().join(dir, F.state);
    env.GITHUB_STEP_SUMMARY = external_node_path_default().join(dir, F.summary);
    env.GITHUB_ENV = external_node_path_default().join(dir, 'env');
    env.GITHUB_PATH = external_node_path_default().join(dir, 'path');
    for (const [name, value] of Object.entries(inputs))
        env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    // The host deploys locally: an empty ssh-host there is the self-hosted mode.
    env['INPUT_SSH-HOST'] = '';
    return env;
}
async function start() {
    const payload = JSON.parse((await readStdin()).toString());
    external_node_fs_default().mkdirSync(runsRoot(), { recursive: true, mode: 0o700 });
    pruneRuns();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = RUN_NAME.test(payload.run ?? '') ? payload.run : `${stamp}-${payload.tag.replace(/[^\w.-]/g, '_').slice(0, 80)}-${external_node_crypto_default().randomBytes(4).toString('hex')}`;
    const dir = external_node_path_default().join(runsRoot(), name);
    try {
        // Exclusive: a runner that lost the start's answer may have claimed the name (then this run never starts).
        external_node_fs_default().mkdirSync(dir, { mode: 0o700 });
    }
    catch (err) {
        if (err.code === 'EEXIST')
            fail(`the run ${name} was claimed before it started (the runner lost the connection): nothing was started`, 5);
        throw err;
    }
    external_node_fs_default().mkdirSync(external_node_path_default().join(dir, 'tmp'), { recursive: true, mode: 0o700 });
    const searchPath = [external_node_path_default().dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join((external_node_path_default()).delimiter);
    const { inputs, pm2 } = hostInputs(payload.inputs, searchPath);
    for (const f of [F.output, F.state, F.summary, 'env', 'path', F.log])
        external_node_fs_default().writeFileSync(external_node_path_default().join(dir, f), '', { mode: 0o600 });
    external_node_fs_default().writeFileSync(external_node_path_default().join(dir, F.inputs), JSON.stringify(stepEnv(dir, payload, inputs, searchPath)), { mode: 0o600 });
    const log = external_node_fs_default().openSync(external_node_path_default().join(dir, F.log), 'a');
    const main = external_node_path_default().join(bundleRoot(), 'main', 'index.js');
    // Its own session (detached: setsid), no tty: a dropped connection does not reach it.
    const child = (0,external_node_child_process_namespaceObject.spawn)('/bin/sh', ['-c', SUPERVISOR, 'pm2-safe-deploy', process.execPath, main, process.argv[1], dir], { detached: true, stdio: ['ignore', log, log], cwd: home() });
    child.unref();
    await agent_frame('S', Buffer.from(JSON.stringify({ runDir: dir, node: process.execPath, version: process.version, pm2, supervisor: child.pid })));
    await follow(dir, 0);
}
/** One frame of the stream the runner reads: a kind letter and a byte count on a line, then the bytes (FRAME in protocol.ts). */
function agent_frame(kind, data) {
    const out = Buffer.concat([Buffer.from(`${kind}${data.length}\n`), data]);
    return new Promise((resolve) => (process.stdout.write(out) ? resolve() : process.stdout.once('drain', resolve)));
}
/** Runs one bundle entry with the step environment, its output appended to the run's log. */
function runEntry(dir, entry, env) {
    return new Promise((resolve) => {
        const log = external_node_fs_default().openSync(external_node_path_default().join(dir, F.log), 'a');
        const child = (0,external_node_child_process_namespaceObject.spawn)(process.execPath, [external_node_path_default().join(bundleRoot(), entry, 'index.js')], { env, cwd: env.GITHUB_WORKSPACE, stdio: ['ignore', log, log] });
        child.on('error', (err) => {
            external_node_fs_default().appendFileSync(external_node_path_default().join(dir, F.log), `pm2-safe-deploy host: could not start ${entry}: ${err.message}\n`);
            resolve({ code: 127, signal: null });
        });
        child.on('close', (code, signal) => {
            external_node_fs_default().closeSync(log);
            resolve({ code, signal });
        });
    });
}
/**
 * The supervisor, a sh process in its own session: runs the main bundle as a runner runs a main
 * step (exec-main: its pid in main.pid, for a cancel), records its exit code, runs the post step's work when
 * main did not end on its own (killed: a lock left behind), then marks the run done. sh, not node:
 * it starts in a millisecond.
 */
const SUPERVISOR = `
n=$1 main=$2 agent=$3 d=$4
if [ -e "$d/${F.cancel}" ]; then
  printf '%s\\n' '::error title=Deploy cancelled::The job was cancelled before the deploy started on this host: nothing was changed.'
  code=1
else
  "$n" "$agent" exec-main "$d" "$main"
  code=$?
fi
printf '{"code":%s}\\n' "$code" > "$d/${F.mainExit}"
case $code in 0|1) ;; *) "$n" "$agent" post-after "$d" ;; esac
: > "$d/${F.inputs}"
printf 'done\\n' > "$d/${F.done}"
`;
/**
 * The main step, in this process: the step's environment from the run directory (dash drops the
 * `INPUT_ENVIRONMENT-SUFFIX` kind of name, so it does not pass through the supervisor), then the
 * main bundle imported as if node had been started on it. One node start instead of two.
 */
async function execMain(dir, main) {
    const env = JSON.parse(external_node_fs_default().readFileSync(external_node_path_default().join(dir, F.inputs), 'utf8'));
    for (const k of Object.keys(process.env))
        delete process.env[k];
    Object.assign(process.env, env);
    process.chdir(env.GITHUB_WORKSPACE ?? home());
    external_node_fs_default().writeFileSync(external_node_path_default().join(dir, F.mainPid), String(process.pid));
    // After main.pid: a cancel that found no pid wrote its marker first, so one of the two sees the other.
    if (external_node_fs_default().existsSync(external_node_path_default().join(dir, F.cancel))) {
        process.stdout.write('::error title=Deploy cancelled::The job was cancelled before the deploy started on this host: nothing was changed.\n');
        process.exit(1);
    }
    process.argv[1] = main;
    await import(/* webpackIgnore: true */ (0,external_node_url_namespaceObject.pathToFileURL)(main).href);
}
/** The post step's work for a main step that was killed: the post bundle with the saved state, as a runner runs it. */
async function postAfter(dir) {
    const env = JSON.parse(external_node_fs_default().readFileSync(external_node_path_default().join(dir, F.inputs), 'utf8'));
    const state = parseCommandFile(external_node_fs_default().readFileSync(external_node_path_default().join(dir, F.state), 'utf8'));
    for (const [k, v] of Object.entries(state))
        env[`STATE_${k}`] = v;
    await runEntry(dir, 'post', env);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Streams the run's log from byte `offset` (L frames) until the run is done and every byte is out, then its result (an R frame). */
async function follow(dir, offset) {
    const logFile = external_node_path_default().join(dir, F.log);
    let at = offset;
    let wake = null;
    let sent = Date.now();
    const watcher = external_node_fs_default().watch(dir, () => wake?.());
    process.stdout.on('error', () => process.exit(0));
    try {
        for (;;) {
            const done = external_node_fs_default().existsSync(external_node_path_default().join(dir, F.done));
            // A run claimed while it was being created has no log yet for a moment.
            const size = external_node_fs_default().existsSync(logFile) ? external_node_fs_default().statSync(logFile).size : 0;
            if (size > at) {
                sent = Date.now();
                const fd = external_node_fs_default().openSync(logFile, 'r');
                const buf = Buffer.alloc(Math.min(size - at, 1 << 20));
                const n = external_node_fs_default().readSync(fd, buf, 0, buf.length, at);
                external_node_fs_default().closeSync(fd);
                at += n;
                await agent_frame('L', buf.subarray(0, n));
                continue;
            }
            if (done)
                return await agent_frame('R', Buffer.from(JSON.stringify(resultOf(dir))));
            if (Date.now() - sent >= HEARTBEAT_MS) {
                sent = Date.now();
                await agent_frame('K', Buffer.alloc(0));
            }
            await Promise.race([sleep(250), new Promise((r) => (wake = r))]);
        }
    }
    finally {
        watcher.close();
    }
}
function readText(file) {
    try {
        return external_node_fs_default().readFileSync(file, 'utf8');
    }
    catch {
        return '';
    }
}
function readJson(file) {
    const text = readText(file);
    try {
        return text ? JSON.parse(text) : null;
    }
    catch {
        return null;
    }
}
/** The main step's exit: a shell's code, 128 + the signal's number when it was killed. */
function mainExit(dir) {
    const raw = readJson(external_node_path_default().join(dir, F.mainExit));
    if (!raw)
        return null;
    return raw.code > 128 ? { code: null, signal: `signal ${raw.code - 128}` } : { code: raw.code, signal: null };
}
function resultOf(dir) {
    const outputs = parseCommandFile(readText(external_node_path_default().join(dir, F.output)));
    const state = parseCommandFile(readText(external_node_path_default().join(dir, F.state)));
    const report = outputs.report ? readJson(outputs.report) : null;
    const answer = {
        done: external_node_fs_default().existsSync(external_node_path_default().join(dir, F.done)),
        main: mainExit(dir),
        outputs,
        summary: readText(external_node_path_default().join(dir, F.summary)),
        releaseSwitch: state['release-switch'] ? JSON.parse(state['release-switch']) : null,
        commandsStarted: state['commands-started'] ? JSON.parse(state['commands-started']).length : 0,
        release: (report?.release ?? null)
    };
    return answer;
}
/** Whether the run had switched the release or sent a pm2 command: past the point a cancel stops. */
function pastSwitch(dir) {
    const state = parseCommandFile(readText(external_node_path_default().join(dir, F.state)));
    return Boolean(state['release-switch'] || (state['commands-started'] && state['commands-started'] !== '[]'));
}
/**
 * Before the release switch (or the first pm2 command without one) the deploy is stopped; after
 * it, left to finish. The marker comes first (a main step that has not written its pid yet sees
 * it); the answer is what the run did, read after the signalled main step ended.
 */
async function cancel(dir) {
    const say = (a) => void process.stdout.write(JSON.stringify(a) + '\n');
    if (external_node_fs_default().existsSync(external_node_path_default().join(dir, F.done)))
        return say({ state: 'done' });
    external_node_fs_default().writeFileSync(external_node_path_default().join(dir, F.cancel), '');
    if (pastSwitch(dir))
        return say({ state: 'past-switch' });
    const pid = Number(readText(external_node_path_default().join(dir, F.mainPid)).trim());
    if (pid > 0) {
        try {
            process.kill(pid, 'SIGINT');
        }
        catch {
            // already gone
        }
        const until = Date.now() + CANCEL_WAIT_MS;
        while (Date.now() < until && !external_node_fs_default().existsSync(external_node_path_default().join(dir, F.mainExit)))
            await sleep(100);
    }
    say({ state: pastSwitch(dir) ? 'past-switch' : 'stopped' });
}
/** `claim <name>`: the run of that name, or proof it never starts (its name taken before a late `start` could take it). */
function claim(name) {
    if (!RUN_NAME.test(name))
        fail(`not a run name: ${name}`);
    external_node_fs_default().mkdirSync(runsRoot(), { recursive: true, mode: 0o700 });
    const dir = external_node_path_default().join(runsRoot(), name);
    const say = (a) => void process.stdout.write(JSON.stringify(a) + '\n');
    try {
        external_node_fs_default().mkdirSync(dir, { mode: 0o700 });
    }
    catch (err) {
        if (err.code !== 'EEXIST')
            throw err;
        return say(external_node_fs_default().existsSync(external_node_path_default().join(dir, F.neverStarted)) ? { state: 'never-started' } : { state: 'started', runDir: dir });
    }
    external_node_fs_default().writeFileSync(external_node_path_default().join(dir, F.neverStarted), '');
    external_node_fs_default().writeFileSync(external_node_path_default().join(dir, F.done), 'done\n');
    say({ state: 'never-started' });
}
/** Uploads older than a day that no run took (their job ended): removed. */
function pruneStaging() {
    let names = [];
    try {
        names = external_node_fs_default().readdirSync(stagingRoot());
    }
    catch {
        return;
    }
    for (const name of names) {
        const p = external_node_path_default().join(stagingRoot(), name);
        try {
            if (Date.now() - external_node_fs_default().lstatSync(p).mtimeMs > STAGING_MAX_AGE_MS)
                external_node_fs_default().rmSync(p, { recursive: true, force: true });
        }
        catch {
            // gone meanwhile
        }
    }
}
/**
 * `upload`: a tar stream on stdin, unpacked into a new directory under ~/.cache/pm2-safe-deploy/staging
 * (inside no directory a deploy may use), with this user's umask and ownership. The run moves it
 * into release-dir after its checks (promise 15); this never touches release-dir.
 */
async function upload() {
    const tar = findOnPath('tar', [process.env.PATH ?? '', '/usr/bin', '/bin'].join((external_node_path_default()).delimiter));
    if (!tar)
        fail('the host has no `tar`: install it, or copy the release to the host another way and leave upload empty');
    let dir;
    try {
        external_node_fs_default().mkdirSync(stagingRoot(), { recursive: true, mode: 0o700 });
        pruneStaging();
        dir = external_node_fs_default().mkdtempSync(external_node_path_default().join(stagingRoot(), `${new Date().toISOString().replace(/[:.]/g, '-')}-`));
    }
    catch (err) {
        fail(`cannot make a staging directory for the upload in ${stagingRoot()}: ${err.message}; nothing was changed`);
    }
    let err = '';
    const code = await new Promise((resolve) => {
        // stdin straight to tar; as root too, modes get the umask and files this user (not the archive's).
        const child = (0,external_node_child_process_namespaceObject.spawn)(tar, ['-x', '-f', '-', '-C', dir, '--no-same-owner', '--no-same-permissions'], { stdio: ['inherit', 'ignore', 'pipe'] });
        child.stderr.on('data', (d) => (err = (err + d.toString()).slice(-2000)));
        child.on('error', (e) => {
            err = e.message;
            resolve(127);
        });
        child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
        external_node_fs_default().rmSync(dir, { recursive: true, force: true });
        fail(`unpacking the upload failed (tar exit ${code}): ${err.trim().split('\n').slice(-3).join(' / ')}; nothing was changed`);
    }
    const answer = { staged: dir };
    process.stdout.write(JSON.stringify(answer) + '\n');
}
function fail(message, code = 3) {
    process.stderr.write(message + '\n');
    process.exit(code);
}
async function agent(argv) {
    const [command, dir, arg] = argv;
    if (command === 'claim')
        return claim(dir ?? '');
    if (dir !== undefined && (!external_node_path_default().isAbsolute(dir) || !external_node_path_default().resolve(dir).startsWith(runsRoot() + (external_node_path_default()).sep)))
        fail(`not a run directory of this user: ${dir}`);
    switch (command) {
        case 'start':
            return start();
        case 'post-after':
            return postAfter(dir);
        case 'exec-main':
            return execMain(dir, arg);
        case 'follow':
            return follow(dir, Number(arg ?? 0));
        case 'result':
            return void process.stdout.write(JSON.stringify(resultOf(dir)) + '\n');
        case 'cancel':
            return cancel(dir);
        case 'upload':
            return upload();
        default:
            fail(`usage: node dist/host/index.js start|follow|result|cancel|claim|upload …`);
    }
}

;// CONCATENATED MODULE: ./src/host-index.ts
// Entry point of the host agent (dist/host/index.js), run on a deploy host over SSH (promise 12).


void agent(process.argv.slice(2));


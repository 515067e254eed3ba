import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 181:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("buffer");

/***/ }),

/***/ 932:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("process");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId](module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/******/ // expose the modules object (__webpack_modules__)
/******/ __nccwpck_require__.m = __webpack_modules__;
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
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
/******/ /* webpack/runtime/create fake namespace object */
/******/ (() => {
/******/ 	var getProto = Object.getPrototypeOf ? (obj) => (Object.getPrototypeOf(obj)) : (obj) => (obj.__proto__);
/******/ 	var leafPrototypes;
/******/ 	// create a fake namespace object
/******/ 	// mode & 1: value is a module id, require it
/******/ 	// mode & 2: merge all properties of value into the ns
/******/ 	// mode & 4: return value when already ns object
/******/ 	// mode & 16: return value when it's Promise-like
/******/ 	// mode & 8|1: behave like require
/******/ 	__nccwpck_require__.t = function(value, mode) {
/******/ 		if(mode & 1) value = this(value);
/******/ 		if(mode & 8) return value;
/******/ 		if(typeof value === 'object' && value) {
/******/ 			if((mode & 4) && value.__esModule) return value;
/******/ 			if((mode & 16) && typeof value.then === 'function') return value;
/******/ 		}
/******/ 		var ns = Object.create(null);
/******/ 		__nccwpck_require__.r(ns);
/******/ 		var def = {};
/******/ 		leafPrototypes = leafPrototypes || [null, getProto({}), getProto([]), getProto(getProto)];
/******/ 		for(var current = mode & 2 && value; typeof current == 'object' && !~leafPrototypes.indexOf(current); current = getProto(current)) {
/******/ 			Object.getOwnPropertyNames(current).forEach((key) => (def[key] = () => (value[key])));
/******/ 		}
/******/ 		def['default'] = () => (value);
/******/ 		__nccwpck_require__.d(ns, def);
/******/ 		return ns;
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
/******/ /* webpack/runtime/ensure chunk */
/******/ (() => {
/******/ 	__nccwpck_require__.f = {};
/******/ 	// This file contains only the entry chunk.
/******/ 	// The chunk loading function for additional chunks
/******/ 	__nccwpck_require__.e = (chunkId) => {
/******/ 		return Promise.all(Object.keys(__nccwpck_require__.f).reduce((promises, key) => {
/******/ 			__nccwpck_require__.f[key](chunkId, promises);
/******/ 			return promises;
/******/ 		}, []));
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/get javascript chunk filename */
/******/ (() => {
/******/ 	// This function allow to reference async chunks
/******/ 	__nccwpck_require__.u = (chunkId) => {
/******/ 		// return url for filenames based on template
/******/ 		return "" + chunkId + ".index.js";
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/import chunk loading */
/******/ (() => {
/******/ 	// no baseURI
/******/ 	
/******/ 	// object to store loaded and loading chunks
/******/ 	// undefined = chunk not loaded, null = chunk preloaded/prefetched
/******/ 	// [resolve, Promise] = chunk loading, 0 = chunk loaded
/******/ 	var installedChunks = {
/******/ 		792: 0
/******/ 	};
/******/ 	
/******/ 	var installChunk = (data) => {
/******/ 		var {ids, modules, runtime} = data;
/******/ 		// add "modules" to the modules object,
/******/ 		// then flag all "ids" as loaded and fire callback
/******/ 		var moduleId, chunkId, i = 0;
/******/ 		for(moduleId in modules) {
/******/ 			if(__nccwpck_require__.o(modules, moduleId)) {
/******/ 				__nccwpck_require__.m[moduleId] = modules[moduleId];
/******/ 			}
/******/ 		}
/******/ 		if(runtime) runtime(__nccwpck_require__);
/******/ 		for(;i < ids.length; i++) {
/******/ 			chunkId = ids[i];
/******/ 			if(__nccwpck_require__.o(installedChunks, chunkId) && installedChunks[chunkId]) {
/******/ 				installedChunks[chunkId][0]();
/******/ 			}
/******/ 			installedChunks[ids[i]] = 0;
/******/ 		}
/******/ 	
/******/ 	}
/******/ 	
/******/ 	__nccwpck_require__.f.j = (chunkId, promises) => {
/******/ 			// import() chunk loading for javascript
/******/ 			var installedChunkData = __nccwpck_require__.o(installedChunks, chunkId) ? installedChunks[chunkId] : undefined;
/******/ 			if(installedChunkData !== 0) { // 0 means "already installed".
/******/ 	
/******/ 				// a Promise means "currently loading".
/******/ 				if(installedChunkData) {
/******/ 					promises.push(installedChunkData[1]);
/******/ 				} else {
/******/ 					if(true) { // all chunks have JS
/******/ 						// setup Promise in chunk cache
/******/ 						var promise = import("./" + __nccwpck_require__.u(chunkId)).then(installChunk, (e) => {
/******/ 							if(installedChunks[chunkId] !== 0) installedChunks[chunkId] = undefined;
/******/ 							throw e;
/******/ 						});
/******/ 						var promise = Promise.race([promise, new Promise((resolve) => (installedChunkData = installedChunks[chunkId] = [resolve]))])
/******/ 						promises.push(installedChunkData[1] = promise);
/******/ 					}
/******/ 				}
/******/ 			}
/******/ 	};
/******/ 	
/******/ 	// no prefetching
/******/ 	
/******/ 	// no preloaded
/******/ 	
/******/ 	// no external install chunk
/******/ 	
/******/ 	// no on chunks loaded
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


;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
var external_node_fs_default = /*#__PURE__*/__nccwpck_require__.n(external_node_fs_namespaceObject);
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
var external_node_path_default = /*#__PURE__*/__nccwpck_require__.n(external_node_path_namespaceObject);
;// CONCATENATED MODULE: external "node:vm"
const external_node_vm_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:vm");
var external_node_vm_default = /*#__PURE__*/__nccwpck_require__.n(external_node_vm_namespaceObject);
;// CONCATENATED MODULE: external "node:module"
const external_node_module_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:module");
;// CONCATENATED MODULE: external "node:child_process"
const external_node_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");
;// CONCATENATED MODULE: ./src/core/swap.ts
/** PM2 records node as `node`; a path to a node binary is the same choice only by that exact path. */
function sameInterpreter(recorded, wanted) {
    return recorded === null || wanted === null || recorded === wanted;
}
/** Which of script, cwd, interpreter of `p` a reload or restart would leave as it is, against what the file says. */
function changedFields(p, want) {
    const out = [];
    if (p.script !== null && p.script !== want.script)
        out.push(`script ${p.script} → ${want.script}`);
    if (p.cwd !== null && p.cwd !== want.cwd)
        out.push(`cwd ${p.cwd} → ${want.cwd}`);
    if (!sameInterpreter(p.interpreter, want.interpreter))
        out.push(`interpreter ${p.interpreter} → ${want.interpreter}`);
    return out;
}
/**
 * How each own app moves under `strategy`. `recreate` is always delete-then-start and
 * is planned by plan.ts; this decides for `reload` and `restart`. Processes left
 * stopped or errored are deleted and started fresh by plan.ts as before, so they are
 * not swapped.
 */
function planMoves(targets, processes) {
    return targets.map((want) => {
        const mine = processes.filter((p) => p.name === want.name && p.status !== 'stopped' && p.status !== 'errored');
        if (mine.length === 0)
            return { kind: 'start', name: want.name };
        const changed = [...new Set(mine.flatMap((p) => changedFields(p, want)))];
        if (changed.length === 0)
            return { kind: 'in-place', name: want.name };
        const allCluster = mine.every((p) => p.execMode === 'cluster');
        if (want.execMode === 'cluster' && allCluster)
            return { kind: 'swap', name: want.name, oldPmIds: mine.map((p) => p.pmId).sort((a, b) => a - b), changed };
        return { kind: 'recreate', name: want.name, changed };
    });
}
function scriptStartArgs(cmd) {
    const args = ['start', cmd.script, '--name', cmd.name, '--cwd', cmd.cwd];
    if (cmd.execMode === 'cluster')
        args.push('-i', String(cmd.instances));
    if (cmd.interpreter !== null)
        args.push('--interpreter', cmd.interpreter);
    if (cmd.namespace !== null)
        args.push('--namespace', cmd.namespace);
    if (cmd.force)
        args.push('-f');
    args.push(...cmd.flags);
    if (cmd.args.length > 0)
        args.push('--', ...cmd.args);
    return args;
}
/** The commands of one swap: the new set, then each old instance by pm_id (sent only after the new set is verified). */
function planSwap(move, want, processes, extra = {}) {
    const force = processes.some((p) => p.name === want.name && p.script === want.script);
    return {
        start: {
            verb: 'start-script',
            name: want.name,
            script: want.script,
            cwd: want.cwd,
            instances: want.instances,
            execMode: want.execMode,
            interpreter: want.interpreter,
            namespace: want.namespace,
            flags: extra.flags ?? [],
            args: extra.args ?? [],
            force,
            envFrom: extra.envFrom ?? null,
            why: `swap: ${move.changed.join(', ')}; new instances beside the old`
        },
        deletes: move.oldPmIds.map((pmId) => ({ verb: 'delete-id', pmId, name: want.name, why: `swap: the old instance, once the new ones serve` }))
    };
}
/** Ecosystem options PM2's CLI can take for a script start, as `--flag=value` (a value may start with `-`). */
const VALUE_FLAGS = {
    max_memory_restart: '--max-memory-restart',
    out_file: '--output',
    error_file: '--error',
    log_file: '--log',
    kill_timeout: '--kill-timeout',
    listen_timeout: '--listen-timeout',
    max_restarts: '--max-restarts',
    restart_delay: '--restart-delay',
    exp_backoff_restart_delay: '--exp-backoff-restart-delay',
    log_date_format: '--log-date-format',
    log_type: '--log-type',
    cron_restart: '--cron-restart',
    uid: '--uid',
    gid: '--gid'
};
const TRUE_FLAGS = {
    merge_logs: '--merge-logs',
    combine_logs: '--merge-logs',
    wait_ready: '--wait-ready',
    time: '--time',
    shutdown_with_message: '--shutdown-with-message',
    source_map_support: '--source-map-support',
    disable_logs: '--disable-logs'
};
const FALSE_FLAGS = {
    autorestart: '--no-autorestart',
    treekill: '--no-treekill',
    vizion: '--no-vizion',
    pmx: '--no-pmx'
};
/** Read elsewhere: identity and paths (AppTarget), env (the pm2 command's environment), args (after `--`). */
const HANDLED = new Set(['name', 'script', 'cwd', 'interpreter', 'exec_interpreter', 'exec_mode', 'instances', 'namespace', 'env', 'args']);
/**
 * The CLI flags that carry an app's ecosystem options into a script start, and the
 * options no flag can carry (the swap would drop them: the caller decides, e.g. recreate).
 */
function ecosystemOptionFlags(options) {
    const flags = [];
    const unsupported = [];
    for (const [key, value] of Object.entries(options)) {
        if (HANDLED.has(key) || key.startsWith('env_') || value === undefined || value === null)
            continue;
        if (key === 'node_args' || key === 'interpreter_args') {
            const v = Array.isArray(value) ? value.map(String).join(' ') : String(value);
            if (v.trim() !== '')
                flags.push(`--node-args=${v}`);
        }
        else if (key in VALUE_FLAGS && (typeof value === 'string' || typeof value === 'number'))
            flags.push(`${VALUE_FLAGS[key]}=${value}`);
        else if (key in TRUE_FLAGS && typeof value === 'boolean') {
            if (value)
                flags.push(TRUE_FLAGS[key]);
        }
        else if (key in FALSE_FLAGS && typeof value === 'boolean') {
            if (!value)
                flags.push(FALSE_FLAGS[key]);
        }
        else
            unsupported.push(key);
    }
    return { flags: [...new Set(flags)], unsupported };
}
/**
 * The environment of the one pm2 command that starts a swap's new set: PM2 gives a
 * script start the caller's environment, so the file's `env` and `env_<name>` are
 * merged over the clean environment as PM2 merges them for a config start. Minus
 * `name`, `namespace` and `pm_id`, which PM2 would read over `--name` and `--namespace`.
 */
function swapStartEnv(cleanEnv, appEnv, envByName) {
    const out = { ...cleanEnv };
    for (const layer of [appEnv, envByName]) {
        for (const [k, v] of Object.entries(layer ?? {})) {
            if (v === undefined || v === null)
                continue;
            out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
        }
    }
    delete out.name;
    delete out.namespace;
    delete out.pm_id;
    return out;
}

;// CONCATENATED MODULE: ./src/shell/ecosystem-protocol.ts
// What the ecosystem reader child prints, and how the action finds it in its stdout.
/** Prefixes the reader's one result line: the file itself may print to stdout. */
const RESULT_MARK = '@@pm2-safe-deploy-ecosystem@@';

;// CONCATENATED MODULE: ./src/shell/ecosystem-reader.ts
// The ecosystem reader: a child process of its own (bundled apart as dist/reader, so
// it starts fast and loads nothing of the action's). It loads the user's ecosystem
// file as PM2 would, and prints one marked JSON line with a fixed set of fields per
// app, never `env`.







/** The child side: load, normalise, print one marked JSON line, exit. Never prints env values. */
async function readEcosystemFile(file) {
    let out;
    try {
        out = { ok: true, apps: normaliseApps(await loadFile(file), file) };
    }
    catch (err) {
        out = describeLoadError(err, file);
    }
    // Exit even when the file left timers or sockets open.
    process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(out)}\n`, () => process.exit(0));
}
/** A problem with a known place and fix, raised by the reader itself. */
class ReadProblem extends Error {
    fix;
    line;
    column;
    constructor(message, fix, line = null, column = null) {
        super(message);
        this.fix = fix;
        this.line = line;
        this.column = column;
    }
}
const SHAPE_FIX = 'An ecosystem file declares `{ apps: [{ name, script, … }] }`.';
/** 1-based line and column of a character offset. */
function lineColumn(text, offset) {
    const before = text.slice(0, Math.max(0, offset));
    const line = before.split('\n').length;
    return { line, column: offset - before.lastIndexOf('\n') };
}
async function loadFile(file) {
    const ext = external_node_path_default().extname(file).toLowerCase();
    let text;
    try {
        text = external_node_fs_default().readFileSync(file, 'utf8');
    }
    catch (err) {
        throw new ReadProblem(`cannot read it (${err.code ?? err.message})`, 'Check that the file exists and that the runner user may read it.');
    }
    if (ext === '.json')
        return loadJson(text, file);
    if (ext === '.yml' || ext === '.yaml') {
        const YAML = await __nccwpck_require__.e(/* import() */ 815).then(__nccwpck_require__.t.bind(__nccwpck_require__, 8815, 19));
        const doc = YAML.parseDocument(text, { prettyErrors: true });
        const first = doc.errors[0];
        if (first) {
            const pos = first.linePos?.[0];
            throw new ReadProblem(`YAML ${first.code}: ${first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`, 'Fix the YAML at that line.', pos?.line ?? null, pos?.col ?? null);
        }
        return doc.toJS();
    }
    const esmFix = `PM2 loads ecosystem files with require(): write it as CommonJS (\`module.exports = { apps: [...] }\`) in a .config.cjs file.`;
    let loaded;
    try {
        loaded = (0,external_node_module_namespaceObject.createRequire)(file)(file);
    }
    catch (err) {
        if (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE') {
            throw new ReadProblem('it is an ES module', esmFix);
        }
        throw err;
    }
    // Node ≥ 20.19 require()s an ES module and returns its namespace, which PM2 misreads.
    if (Object.prototype.toString.call(loaded) === '[object Module]')
        throw new ReadProblem('it is an ES module', esmFix);
    return loaded;
}
/** As PM2 does: JSON, else a JavaScript object literal (comments, trailing commas). */
function loadJson(text, file) {
    try {
        return JSON.parse(text);
    }
    catch (jsonErr) {
        try {
            return external_node_vm_default().runInThisContext(`(${text})`, { filename: file, displayErrors: false, timeout: 1000 });
        }
        catch {
            const message = jsonErr.message;
            const at = message.match(/line (\d+) column (\d+)/);
            const offset = message.match(/at position (\d+)/);
            const pos = at ? { line: Number(at[1]), column: Number(at[2]) } : offset ? lineColumn(text, Number(offset[1])) : null;
            throw new ReadProblem(`JSON ${message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '')}`, 'Fix the JSON at that line.', pos?.line ?? null, pos?.column ?? null);
        }
    }
}
/** Where in `file` an error was raised, from its stack: node writes "file:line[:column]". */
function locate(err, file) {
    const names = new Set([file]);
    try {
        names.add(external_node_fs_default().realpathSync(file));
    }
    catch {
        // keep the given path
    }
    for (const name of names) {
        const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const m = (err.stack ?? '').match(new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`));
        if (m)
            return { line: Number(m[1]), column: m[2] ? Number(m[2]) : null };
    }
    return { line: null, column: null };
}
function describeLoadError(err, file) {
    if (err instanceof ReadProblem)
        return { ok: false, error: err.message, line: err.line, column: err.column, fix: err.fix };
    if (!(err instanceof Error))
        return { ok: false, error: String(err).slice(0, 300), line: null, column: null, fix: 'Fix the file.' };
    const { line, column } = locate(err, file);
    const syntax = err.name === 'SyntaxError';
    return {
        ok: false,
        error: `${err.name}: ${err.message.split('\n')[0].slice(0, 300)}`,
        line,
        column,
        fix: syntax
            ? `Fix the syntax${line ? ' at that line' : ''} (\`node --check ${external_node_path_default().basename(file)}\` shows it).`
            : `Loading the file threw${line ? ' at that line' : ''}: it must run with the step's environment (the runner's own variables removed).`
    };
}
function str(v) {
    return typeof v === 'string' && v !== '' ? v : null;
}
function normaliseApps(loaded, file) {
    if (loaded === null || typeof loaded !== 'object')
        throw new ReadProblem(`${external_node_path_default().basename(file)} declares no apps`, SHAPE_FIX);
    // PM2 takes `apps`, else `pm2`, else the whole object (or array) as the app list.
    const root = loaded;
    const apps = Array.isArray(loaded) ? loaded : 'apps' in root ? root.apps : 'pm2' in root ? root.pm2 : loaded;
    const list = Array.isArray(apps) ? apps : apps && typeof apps === 'object' ? [apps] : [];
    if (list.length === 0)
        throw new ReadProblem(`${external_node_path_default().basename(file)} declares no apps`, SHAPE_FIX);
    return list.map((raw, i) => {
        const app = (raw ?? {});
        const name = str(app.name);
        if (!name)
            throw new ReadProblem(`app #${i + 1} has no name`, 'Give every app a unique `name`: the action finds its processes by name.');
        return {
            name,
            // PM2 aliases `cmd` and `command` to `script`.
            script: str(app.script) ?? str(app.cmd) ?? str(app.command),
            cwd: str(app.cwd),
            interpreter: str(app.interpreter) ?? str(app.exec_interpreter),
            execMode: str(app.exec_mode) ?? str(app.execMode),
            instances: typeof app.instances === 'number' || typeof app.instances === 'string' ? app.instances : null,
            namespace: str(app.namespace),
            // PM2 tests the flag for truth (`if (app.append_env_to_name && opts.env)`).
            appendEnvToName: Boolean(app.append_env_to_name),
            namePrefix: app.name_prefix === undefined || app.name_prefix === null || app.name_prefix === '' ? null : String(app.name_prefix),
            swap: { ...ecosystemOptionFlags(app), args: scriptArgs(app.args) }
        };
    });
}
/** PM2 splits a string `args` on spaces; an array is taken as it is. */
function scriptArgs(v) {
    if (Array.isArray(v))
        return v.map(String);
    return typeof v === 'string' ? v.split(' ').filter((a) => a !== '') : [];
}
/**
 * The child side of a swap's start: runs `command` with the app's `env` and
 * `env_<envName>` merged over this process's (clean) environment, as PM2 merges them
 * for a config start, so the values never pass through the action. Exits with its code.
 */
async function execWithAppEnv(file, appName, envName, command) {
    const loaded = (await loadFile(file));
    const apps = Array.isArray(loaded) ? loaded : 'apps' in loaded ? loaded.apps : 'pm2' in loaded ? loaded.pm2 : loaded;
    const list = (Array.isArray(apps) ? apps : [apps]);
    const app = list.find((a) => a && a.name === appName);
    if (!app || command.length === 0) {
        process.stderr.write(`${external_node_path_default().basename(file)} declares no app named ${appName}\n`);
        process.exit(2);
    }
    const clean = Object.fromEntries(Object.entries(process.env).filter((e) => e[1] !== undefined));
    const env = swapStartEnv(clean, app.env, envName ? app[`env_${envName}`] : undefined);
    const child = (0,external_node_child_process_namespaceObject.spawn)(command[0], command.slice(1), { env, stdio: 'inherit', shell: false });
    child.on('error', (err) => {
        process.stderr.write(`${err.message}\n`);
        process.exit(127);
    });
    child.on('close', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

;// CONCATENATED MODULE: ./src/reader.ts
// Entry point of the ecosystem reader child: `node dist/reader/index.js <file>`, or
// `node dist/reader/index.js --exec-with-app-env <file> <app> <env-name> -- <command…>`
// to run a swap's pm2 start with the app's env (never seen by the action).


const [first, ...rest] = process.argv.slice(2);
if (first === '--exec-with-app-env' && rest.length >= 4 && rest[3] === '--') {
    void execWithAppEnv(rest[0], rest[1], rest[2], rest.slice(4));
}
else if (first && !first.startsWith('--'))
    void readEcosystemFile(first);
else {
    process.stderr.write('usage: node dist/reader/index.js <ecosystem file>\n');
    process.exit(2);
}


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
            namePrefix: app.name_prefix === undefined || app.name_prefix === null || app.name_prefix === '' ? null : String(app.name_prefix)
        };
    });
}

;// CONCATENATED MODULE: ./src/reader.ts
// Entry point of the ecosystem reader child: `node dist/reader/index.js <file>`.

const file = process.argv[2];
if (file)
    void readEcosystemFile(file);
else {
    process.stderr.write('usage: node dist/reader/index.js <ecosystem file>\n');
    process.exit(2);
}


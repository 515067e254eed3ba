// The fixed POSIX sh scripts the runner sends as ssh commands. No input is ever interpolated
// into them: values arrive as positional arguments (the bundle hash, paths the host reported)
// or on stdin (an input such as pm2-home), and each is quoted as one word by shellCommand.
import { shellCommand } from '../core/ssh.js'
import { CACHE_DIR, VERIFIER } from './bundle.js'

/**
 * Finds the node to run the bundle with: the PM2 daemon's (its pid file under pm2-home, read from
 * stdin's first line; the process must be a PM2 daemon), else a login shell's. Prints key=value
 * lines; only sh built-ins and that node are used (the session's PATH may have nothing).
 */
const PROBE = `
JS='process.stdout.write(process.execPath + " " + process.version)'
IFS= read -r h || h=
case $h in
  '~/'*) h=$HOME/\${h#??} ;;
  '') h=\${PM2_HOME:-$HOME/.pm2} ;;
  /*) ;;
  *) h=$HOME/$h ;;
esac
exe= from=
if [ -r "$h/pm2.pid" ]; then
  pid=
  IFS= read -r pid < "$h/pm2.pid"
  case $pid in
    ''|*[!0-9]*) ;;
    *) title=
       [ -r "/proc/$pid/cmdline" ] && IFS= read -r title < "/proc/$pid/cmdline" 2>/dev/null
       case $title in 'PM2 v'*) [ -x "/proc/$pid/exe" ] && exe=/proc/$pid/exe from=daemon ;; esac ;;
  esac
fi
if [ -z "$exe" ]; then
  out=$("\${SHELL:-/bin/sh}" -lc 'command -v node' </dev/null 2>/dev/null) || out=
  nl='
'
  out=\${out##*"$nl"}
  case $out in /*) exe=$out from=login ;; esac
fi
b=no
[ -f "$HOME/${CACHE_DIR}/$1/host/index.js" ] && b=yes
# With "start" and this bundle there, the run starts now (the agent checks its node), reading its inputs from the rest of stdin;
# $3, the runner's fixed verifier, checks the cached bundle's sha256 first and runs nothing when it does not match.
if [ "$2" = start ] && [ "$b" = yes ] && [ -n "$exe" ]; then
  printf 'node=%s\\nfrom=%s\\nhome=%s\\npm2home=%s\\nbundle=yes\\nstarting=yes\\n--\\n' "$exe" "$from" "$HOME" "$h"
  exec "$exe" -e "$3" "$1" start
fi
info=
[ -n "$exe" ] && info=$("$exe" -e "$JS" 2>/dev/null)
node=\${info% *} v=\${info##* }
printf 'node=%s\\nfrom=%s\\nversion=%s\\nhome=%s\\npm2home=%s\\nbundle=%s\\n--\\n' "$node" "$from" "$v" "$HOME" "$h" "$b"
`

export function probeCommand(bundleHash: string, thenStart = false): string {
  return shellCommand(PROBE, thenStart ? [bundleHash, 'start', VERIFIER] : [bundleHash])
}

/** `node <args…>` on the host: the node path the probe found is data, not code. */
export function nodeCommand(node: string, args: readonly string[]): string {
  return shellCommand('n=$1; shift; exec "$n" "$@"', [node, ...args])
}

export interface Probe {
  node: string
  from: 'daemon' | 'login' | ''
  version: string
  home: string
  pm2Home: string
  bundlePresent: boolean
  /** The host is starting the run on this connection (its answer follows the header). */
  starting: boolean
}

export function parseProbe(text: string): Probe {
  const kv: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) kv[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return {
    node: kv.node ?? '',
    from: (kv.from ?? '') as Probe['from'],
    version: kv.version ?? '',
    home: kv.home ?? '',
    pm2Home: kv.pm2home ?? '',
    bundlePresent: kv.bundle === 'yes',
    starting: kv.starting === 'yes'
  }
}

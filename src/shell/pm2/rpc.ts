// A read-only connection to the PM2 daemon's RPC socket, through the host pm2's own
// axon modules (never bundled: they must speak the daemon's protocol version). One
// connection serves every read of the run: a list costs milliseconds instead of a
// 250–430 ms CLI start. Only read methods are ever called on it.
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'

interface RpcClient {
  call(method: string, arg: unknown, cb: (err: unknown, result: unknown) => void): void
  sock: { once(ev: string, fn: (...a: unknown[]) => void): void; on(ev: string, fn: (...a: unknown[]) => void): void }
}
interface AxonSocket {
  connect(target: string): unknown
  close(): void
  on(ev: string, fn: (...a: unknown[]) => void): void
  once(ev: string, fn: (...a: unknown[]) => void): void
  removeListener(ev: string, fn: (...a: unknown[]) => void): void
  /** false once the daemon closed the connection (axon then retries to connect). */
  connected?: boolean
}

/** True when something accepts connections on `$PM2_HOME/rpc.sock`. Starts nothing. */
export function socketAnswers(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath)
    const done = (ok: boolean) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    sock.once('connect', () => done(true))
    sock.once('error', () => done(false))
  })
}

interface AxonModules {
  axon: { socket(type: string): AxonSocket }
  rpc: { Client: new (s: AxonSocket) => RpcClient }
}

/** axon and axon-rpc from the host's pm2: pm2 ≥ 6 vendors them under modules/, older ones depend on them. */
function loadAxon(pm2Root: string): AxonModules | null {
  const req = createRequire(path.join(pm2Root, 'package.json'))
  try {
    try {
      return { axon: req(path.join(pm2Root, 'modules', 'pm2-axon')), rpc: req(path.join(pm2Root, 'modules', 'pm2-axon-rpc')) }
    } catch {
      return { axon: req('pm2-axon'), rpc: req('pm2-axon-rpc') }
    }
  } catch {
    return null
  }
}

/**
 * PM2's event bus (`$PM2_HOME/pub.sock`): the daemon announces every start, exit and
 * restart there. Watching it, a crash is seen the moment it happens, and the process
 * list need only be read now and then. Only the name and the event of a message are
 * read; the rest (which carries the app's environment) is dropped.
 */
export class Pm2Bus {
  private listeners = new Set<(name: string, event: string) => void>()

  private constructor(private readonly socket: AxonSocket) {}

  static async open(pm2Root: string, pm2Home: string, timeoutMs = 3000): Promise<Pm2Bus | null> {
    const modules = loadAxon(pm2Root)
    if (!modules) return null
    const socket = modules.axon.socket('sub-emitter') as AxonSocket & { sock?: AxonSocket }
    socket.on('error', () => undefined)
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      const sock = socket.connect(path.join(pm2Home, 'pub.sock')) as { once?(ev: string, fn: () => void): void; on?(ev: string, fn: () => void): void }
      sock.on?.('error', () => undefined)
      sock.on?.('socket error', () => undefined)
      sock.once?.('connect', () => {
        clearTimeout(timer)
        resolve(true)
      })
    })
    if (!connected) {
      socket.close()
      return null
    }
    const bus = new Pm2Bus(socket)
    socket.on('process:event', (data: unknown) => {
      const d = data as { event?: unknown; process?: { name?: unknown } } | null
      const name = String(d?.process?.name ?? '')
      const event = String(d?.event ?? '')
      for (const l of bus.listeners) l(name, event)
    })
    return bus
  }

  onProcessEvent(listener: (name: string, event: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.listeners.clear()
    this.socket.close()
  }
}

const READ_METHODS = new Set(['getMonitorData', 'getVersion', 'ping'])

export class Pm2Rpc {
  private constructor(
    private readonly socket: AxonSocket,
    private readonly client: RpcClient
  ) {}

  /** Loads axon from the host's pm2 package; null when that package cannot provide it. */
  static async open(pm2Root: string, pm2Home: string, timeoutMs = 5000): Promise<Pm2Rpc | null> {
    const modules = loadAxon(pm2Root)
    if (!modules) return null
    const { axon, rpc } = modules
    const socket = axon.socket('req')
    const client = new rpc.Client(socket)
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      client.sock.once('connect', () => {
        clearTimeout(timer)
        resolve(true)
      })
      socket.connect(path.join(pm2Home, 'rpc.sock'))
    })
    if (!connected) {
      socket.close()
      return null
    }
    // A daemon that goes away mid-run must not crash the action with an unhandled error.
    socket.on('error', () => undefined)
    socket.on('socket error', () => undefined)
    return new Pm2Rpc(socket, client)
  }

  call(method: string, timeoutMs = 10_000): Promise<unknown> {
    if (!READ_METHODS.has(method)) return Promise.reject(new Error(`pm2 RPC method ${method} is not a read`))
    // A closed connection is never answered (axon would only reconnect): fail at once, not at the timeout.
    if (this.socket.connected === false) return Promise.reject(new Error(`the PM2 daemon closed its connection before ${method}`))
    return new Promise((resolve, reject) => {
      const end = (fn: () => void) => {
        clearTimeout(timer)
        this.socket.removeListener('reconnect attempt', closed)
        fn()
      }
      const closed = () => end(() => reject(new Error(`the PM2 daemon closed its connection during ${method}`)))
      const timer = setTimeout(() => end(() => reject(new Error(`PM2 daemon did not answer ${method} within ${timeoutMs} ms`))), timeoutMs)
      this.socket.once('reconnect attempt', closed)
      this.client.call(method, {}, (err, result) => end(() => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result))))
    })
  }

  close(): void {
    this.socket.close()
  }
}

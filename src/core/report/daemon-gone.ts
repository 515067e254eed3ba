// The daemon went away during the deploy: its title and message (no own process is to blame).
/** The title of a deploy during which the PM2 daemon went away. */
export const DAEMON_GONE_TITLE = 'PM2 daemon gone'

/** The message of a deploy during which the PM2 daemon went away: no own process is to blame. */
export function daemonGoneMessage(pm2Home: string, commandsSent: number): string {
  return (
    `The PM2 daemon at ${pm2Home} is gone: it stopped answering during the deploy` +
    `${commandsSent > 0 ? ` (after ${commandsSent} pm2 command(s) were sent)` : ''}, and every process it ran, own or not, went with it. ` +
    'This is not a fault of the own processes. Start it again as the user who owns it: `pm2 resurrect` (it starts the daemon and the ' +
    'apps of the last `pm2 save`); then re-run this deploy.'
  )
}


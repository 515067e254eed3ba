// What the post step's record says of a main step killed outright: how far it got, from the
// state it saved as it went (commands started, a release switch), and the way back from a half-done switch.
import { describe, expect, test } from 'vitest'
import { progressNote } from '../../src/post.js'

const none = { snapshotBefore: null, releaseSwitch: null, commandsStarted: [] }
const sw = { link: '/srv/app/current', previous: '/srv/app/releases/r1', target: '/srv/app/releases/r2' }

describe('progressNote', () => {
  test('no command started: says so', () => {
    expect(progressNote(none, () => null)).toBe('It had sent no pm2 command.')
  })

  test('commands started: names them, the last possibly unfinished', () => {
    expect(progressNote({ ...none, commandsStarted: ['pm2 reload a --update-env', 'pm2 reload b --update-env'] }, () => null)).toBe(
      'pm2 commands it started (the last may not have finished): pm2 reload a --update-env; pm2 reload b --update-env. Check the processes of this app.'
    )
  })

  test('the link left on the new release: a half-done switch, and the command that puts it back', () => {
    const note = progressNote({ ...none, releaseSwitch: sw }, () => sw.target)
    expect(note).toContain(`A release switch was half done: ${sw.link} names ${sw.target} (was ${sw.previous})`)
    expect(note).toContain(`to go back by hand: ln -sfn -- ${sw.previous} ${sw.link}.`)
  })

  test('a release named after a branch with shell characters is quoted in the paste hint (issue 23, point 7)', () => {
    const evil = { link: '/srv/app/current', previous: "/srv/app/releases/fix;rm -rf ~|$(id)'x", target: '/srv/app/releases/r2' }
    const note = progressNote({ ...none, releaseSwitch: evil }, () => evil.target)
    expect(note).toContain(`to go back by hand: ln -sfn -- '/srv/app/releases/fix;rm -rf ~|$(id)'\\''x' /srv/app/current.`)
  })

  test('a first release (no previous link): the way back removes the link', () => {
    expect(progressNote({ ...none, releaseSwitch: { ...sw, previous: null } }, () => sw.target)).toContain(`to go back by hand: rm -- ${sw.link}.`)
  })

  test('the link back on the previous release (killed during a rollback): says where it points, no way back to offer', () => {
    const note = progressNote({ ...none, releaseSwitch: sw }, () => sw.previous)
    expect(note).toContain(`It had begun a release switch of ${sw.link} to ${sw.target} (was ${sw.previous}); the link now names ${sw.previous}.`)
    expect(note).not.toContain('half done')
  })
})

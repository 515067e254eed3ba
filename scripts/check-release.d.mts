// Types of check-release.mjs, for the tests that import it.
export type ReleaseTag = { version: string; numbers: [number, number, number]; major: string; prerelease: boolean }
export function parseTag(tag: string): ReleaseTag
export function versionConstants(text: string): string[]
export function movesMajor(tag: string, tags: string[]): boolean
export function releaseProblems(files: { tag: string; packageVersion: string; source: string; bundles: Record<string, string>; changelog: string }): string[]

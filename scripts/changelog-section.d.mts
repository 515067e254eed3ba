// Types of changelog-section.mjs, for the tests that import it.
export type ChangelogSection = { version: string; date: string | null; body: string }
export function changelogSections(changelog: string): ChangelogSection[]
export function changelogSection(changelog: string, version: string): string

import { defineConfig } from 'vitest/config'

// Two projects: pure unit tests (no daemon, no bundle) run in parallel; end-to-end tests each
// start a private PM2 daemon and run dist/ as a runner does, one file at a time so they keep
// off each other's CPU. `npm test` runs the unit project first, then the end-to-end one.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['__tests__/unit/**/*.test.ts']
        }
      },
      {
        test: {
          name: 'e2e',
          include: ['__tests__/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
          globalSetup: ['__tests__/global-setup.ts']
        }
      }
    ]
  }
})

import { defineConfig, type Plugin } from 'vitest/config'

// @actions/workflow-parser ships source maps without their sources: vite would warn once per
// module of it (some 70 lines) on every unit run. Only that warning, for that package, is dropped.
const quietWorkflowParserMaps: Plugin = {
  name: 'quiet-workflow-parser-source-maps',
  configResolved(config) {
    const warnOnce = config.logger.warnOnce.bind(config.logger)
    config.logger.warnOnce = (msg, options) => {
      if (!/@actions\/workflow-parser\/.*points to missing source files/.test(msg)) warnOnce(msg, options)
    }
  }
}

// Two projects: pure unit tests (no daemon, no bundle) run in parallel; end-to-end tests each
// start a private PM2 daemon and run dist/ as a runner does, one file at a time so they keep
// off each other's CPU. `npm test` runs the unit project first, then the end-to-end one.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [quietWorkflowParserMaps],
        test: {
          name: 'unit',
          include: ['__tests__/unit/**/*.test.ts'],
          // Property runs of thousands of cases (some spawn bash) outlast vitest's 5 s on two busy cores.
          testTimeout: 30_000,
          // @actions/workflow-parser imports its JSON schema without an import attribute, which
          // plain Node ESM refuses: vitest transforms it instead (__tests__/unit/workflows.test.ts).
          server: { deps: { inline: ['@actions/workflow-parser'] } }
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

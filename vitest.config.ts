import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__tests__/**/*.test.ts'],
    // Integration tests each start a private PM2 daemon: keep them off each other's CPU.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    globalSetup: ['__tests__/global-setup.ts']
  }
})

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Network and worker tests share 2 cores and kernel state: run files one at a time.
    fileParallelism: false,
  },
});

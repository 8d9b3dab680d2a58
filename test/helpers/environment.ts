/** The environment block of a hand-built result file: a fixed, made-up 2-CPU Linux host. */
import type { Environment } from '../../reports/schema.js';

export function testEnvironment(): Environment {
  return {
    host: {
      hostname: 'h',
      platform: 'linux',
      arch: 'x64',
      osRelease: '6',
      cpuModel: 'Test CPU',
      logicalCpus: 2,
      totalMemoryBytes: 2 ** 33,
    },
    runtime: { node: '20.0.0', v8: '11' },
    skipbench: '0.1.0',
  };
}

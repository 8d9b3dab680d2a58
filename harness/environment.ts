/** The context recorded with every result: machine, runtime and versions. */
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';
import type { Environment } from '../reports/schema.js';
import { packageVersion } from './paths.js';

export function captureEnvironment(): Environment {
  const cpu = cpus();
  return {
    host: {
      hostname: hostname(),
      platform: platform(),
      arch: arch(),
      osRelease: release(),
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      logicalCpus: cpu.length,
      totalMemoryBytes: totalmem(),
    },
    runtime: { node: process.versions.node, v8: process.versions.v8 },
    skipbench: packageVersion(),
  };
}

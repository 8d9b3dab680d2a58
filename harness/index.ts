/** The programmatic API: everything the CLI does is reachable from here. */
export { type CliCommand, main, parseCli, readResultFile } from './cli.js';
export { boundAt, machineCeilings } from './ceilings.js';
export { captureEnvironment } from './environment.js';
export { armsOf, type KernelConfig, type KernelUserConfig, resolveKernelConfig } from './kernel/config.js';
export { KERNEL_DEFAULTS } from './kernel/defaults.js';
export { createReferenceExecutor, createWasmExecutor, type Executor } from './kernel/executor.js';
export { type KernelProgress, type KernelRunOptions, runKernelBenchmark } from './kernel/runner.js';
export { KernelPool } from './cpu/pool.js';
export { GpuError, GpuRunner } from './gpu/client.js';
export { GPU_DEFAULTS } from './gpu/defaults.js';
export * from './server/index.js';

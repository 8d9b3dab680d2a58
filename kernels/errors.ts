/**
 * One error base class with stable codes for the whole project. It lives in kernels/, the lowest layer, so that
 * every other folder can import it without data flowing backwards. Tests assert on `code`, never on message text.
 */
export const ErrorCodes = {
  /** A tensor's length does not match the shape it was declared with. */
  SHAPE: 'SKB_SHAPE',
  /** A tensor holds NaN or +-Infinity. */
  NON_FINITE: 'SKB_NON_FINITE',
  /** A length (sequence, KV, context) is zero, negative or not an integer. */
  LENGTH: 'SKB_LENGTH',
  /** head_dim is not one of the supported sizes. */
  HEAD_DIM: 'SKB_HEAD_DIM',
  /** An option (tile size, factor, partitions, ...) is outside its allowed range. */
  OPTION: 'SKB_OPTION',
  /** A user configuration or CLI value is invalid. */
  CONFIG: 'SKB_CONFIG',
  /** A .npy file is malformed or has an unsupported dtype/layout. */
  NPY: 'SKB_NPY',
  /** The compiled WebAssembly kernel or its worker script is missing (run `npm run build`). */
  BUILD_MISSING: 'SKB_BUILD_MISSING',
  /** A worker thread failed. */
  WORKER: 'SKB_WORKER',
  /** A result file is unreadable or has the wrong schema. */
  RESULT: 'SKB_RESULT',
  /** The GPU backend cannot run: the python executable, torch, triton or a CUDA GPU is missing. */
  GPU_UNAVAILABLE: 'SKB_GPU_UNAVAILABLE',
  /** A GPU arm's output failed the check against the float32 reference. */
  GPU_CHECK_FAILED: 'SKB_GPU_CHECK_FAILED',
  /** The GPU runner wrote a malformed line or speaks another protocol version. */
  GPU_PROTOCOL: 'SKB_GPU_PROTOCOL',
  /** The GPU runner failed: it answered another error, exited, or did not answer in time. */
  GPU_RUNNER: 'SKB_GPU_RUNNER',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorDetails {
  /** The offending field, e.g. `headDim`, `k`, `--contexts`. */
  field?: string;
  /** The allowed values or range, in words, e.g. `64 | 128` or `integer >= 1`. */
  allowed?: string;
  /** The value that was received. */
  received?: unknown;
}

export class SkipbenchError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly allowed?: string;
  readonly received?: unknown;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SkipbenchError';
    this.code = code;
    this.field = details.field;
    this.allowed = details.allowed;
    this.received = details.received;
  }
}

/** Builds the usual "field must be allowed (got x)" error. */
export function invalid(code: ErrorCode, field: string, allowed: string, received: unknown): SkipbenchError {
  return new SkipbenchError(code, `${field} must be ${allowed} (got ${formatReceived(received)})`, {
    field,
    allowed,
    received,
  });
}

function formatReceived(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    return typeof value;
  }
}

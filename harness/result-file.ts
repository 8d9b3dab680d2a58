/** Reads a result file, refusing anything that is not the current result schema (a clear SKB_RESULT error). */
import { readFileSync } from 'node:fs';
import { ErrorCodes, SkipbenchError } from '../kernels/errors.js';
import { RESULT_SCHEMA, RESULT_SCHEMA_VERSION, type ResultFile } from '../reports/schema.js';

export function readResultFile(path: string): ResultFile {
  let value: ResultFile;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SkipbenchError(ErrorCodes.RESULT, `cannot read ${path}: ${(error as Error).message}`, { field: path });
  }
  if (value?.schema !== RESULT_SCHEMA || value.schemaVersion !== RESULT_SCHEMA_VERSION) {
    throw new SkipbenchError(
      ErrorCodes.RESULT,
      `${path} is not a ${RESULT_SCHEMA} v${RESULT_SCHEMA_VERSION} file (schema ${value?.schema}, version ${value?.schemaVersion})`,
      { field: path, allowed: `${RESULT_SCHEMA} v${RESULT_SCHEMA_VERSION}` },
    );
  }
  return value;
}

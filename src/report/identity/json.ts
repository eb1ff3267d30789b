import { SnapshotError } from '../../format/errors.js';

/** Parses a text that must be one JSON object (a trust file, a certificate); anything else is `code` naming `what` was expected. */
export function parseJsonObject(text: string, code: 'BAD_TRUST' | 'BAD_CERTIFICATE', file: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SnapshotError(code, `not ${what}: ${(e as Error).message}`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SnapshotError(code, `not ${what}: expected a JSON object`, { file });
  return value as Record<string, unknown>;
}

import {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_TABLES,
  DEFAULT_MAX_VALUE_BYTES,
  MAX_TABLES,
  U32_MAX,
} from './constants.js';
import { SnapshotError } from './errors.js';

/** Limits applied to untrusted input before anything is allocated. */
export type SnapshotLimits = Readonly<
  Partial<{
    /** Largest key accepted, in bytes. Defaults to 65,536 (64 KiB). */
    maxKeyBytes: number;
    /** Largest value accepted, in bytes. Defaults to 67,108,864 (64 MiB). */
    maxValueBytes: number;
    /** Most tables in a catalog. Defaults to 1,024. */
    maxTables: number;
  }>
>;

export type ResolvedLimits = Required<{ [K in keyof SnapshotLimits]-?: number }>;

export function resolveLimits(limits: SnapshotLimits = {}): ResolvedLimits {
  const r = {
    maxKeyBytes: limits.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES,
    maxValueBytes: limits.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    maxTables: limits.maxTables ?? DEFAULT_MAX_TABLES,
  };
  check('maxKeyBytes', r.maxKeyBytes, U32_MAX);
  check('maxValueBytes', r.maxValueBytes, U32_MAX);
  check('maxTables', r.maxTables, MAX_TABLES);
  return r;
}

function check(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new SnapshotError('INVALID_ARGUMENT', `${name} must be an integer from 0 to ${max}, got ${value}`);
  }
}

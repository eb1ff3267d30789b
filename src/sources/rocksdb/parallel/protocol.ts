/**
 * Messages between the merge pool (merge-pool.ts, main thread) and its workers (merge-worker.ts).
 * A family's plan goes to every worker once; then each range is one request (`seq`), answered
 * by its packed batches in order, then `done` with the entries read per file, or `error`.
 */
import { SnapshotError, type ErrorCode } from '../../../format/errors.js';
import type { FamilyPlan } from '../family-plan.js';

/** A family plan without its merge operator (functions cannot cross threads). */
export type PortablePlan = Omit<FamilyPlan, 'merge'>;

export type ToWorker =
  | { readonly type: 'family'; readonly fam: number; readonly plan: PortablePlan }
  | { readonly type: 'range'; readonly fam: number; readonly seq: number; readonly lo: Uint8Array | undefined; readonly hi: Uint8Array | undefined }
  | { readonly type: 'end'; readonly fam: number }
  /** A batch's buffer given back, consumed, for the worker to fill again. */
  | { readonly type: 'recycle'; readonly buffer: ArrayBuffer };

export type WorkerError =
  | { readonly code: ErrorCode; readonly message: string; readonly file: string | undefined; readonly offset: number | undefined }
  | { readonly internal: string };

export type FromWorker =
  | { readonly type: 'batch'; readonly seq: number; readonly bytes: Uint8Array; readonly count: number }
  | { readonly type: 'done'; readonly seq: number; readonly counts: readonly (readonly [string, number])[] }
  | { readonly type: 'error'; readonly seq: number; readonly error: WorkerError };

/**
 * The message of the error a worker raises for a visible merge operand in a family without an
 * operator: the main thread replaces it with the plan's own refusal (`plan.merge.refuse(file)`).
 */
export const REFUSED = '\0merge operand without an operator';

export function toWorkerError(e: unknown): WorkerError {
  if (e instanceof SnapshotError) return { code: e.code, message: e.message, file: e.file, offset: e.offset };
  return { internal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

/** The worker's error as the in-process merge would have thrown it. */
export function fromWorkerError(e: WorkerError, plan: FamilyPlan): Error {
  if ('internal' in e) return new Error(`merge worker: ${e.internal}`);
  if (e.message === REFUSED && plan.merge.operator === undefined) return plan.merge.refuse(e.file ?? '');
  return new SnapshotError(e.code, e.message, { ...(e.file !== undefined ? { file: e.file } : {}), ...(e.offset !== undefined ? { offset: e.offset } : {}) });
}

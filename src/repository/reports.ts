import { SnapshotError } from '../format/errors.js';
import type { InputFailure, LoadedReport } from '../report/compare.js';
import type { DigestReport } from '../report/schema.js';
import { MAX_REPORT_BYTES, reportValues, validateReport } from '../report/validate.js';
import { epochOfFolder, epochPrefix, LAYOUT_ROOT, parseKey, reportKeyOf } from './layout.js';
import { forEachLimited, getObject, type ObjectStore } from './store.js';

/** Reports read at once by compare: enough to hide latency, few enough to bound memory and sockets. */
export const REPORT_READ_CONCURRENCY = 16;

/** A report read from the repository, with its exact bytes. */
export interface StoredReport {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly report: DigestReport;
}

/**
 * Reads the report at `key`: undefined when absent. It must be one valid report (schema 1) whose
 * epoch, anchor id and node name place it at exactly this key (spec section 4), else BAD_REPORT.
 */
export async function readStoredReport(store: ObjectStore, key: string): Promise<StoredReport | undefined> {
  const where = store.where(key);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await getObject(store, key, MAX_REPORT_BYTES);
  } catch (e) {
    if (e instanceof SnapshotError && e.code === 'LIMIT_EXCEEDED') throw new SnapshotError('BAD_REPORT', `more than ${MAX_REPORT_BYTES} bytes, more than a report can hold`, { file: where });
    throw e;
  }
  if (bytes === undefined) return undefined;
  const values = reportValues(new TextDecoder().decode(bytes), where);
  if (values.length !== 1) throw new SnapshotError('BAD_REPORT', `a report object holds exactly one report, this one ${values.length}`, { file: where });
  const report = validateReport(values[0], where);
  const expected = reportKeyOf(report);
  if (expected !== key) throw new SnapshotError('BAD_REPORT', `this report (epoch ${report.epoch}, node ${JSON.stringify(report.node.name)}) belongs at ${expected}, not here`, { file: where });
  return { key, bytes, report };
}

/** The epochs of the repository (ascending), and keys under v1/epochs/ that are not epochs. */
export async function listEpochs(store: ObjectStore): Promise<{ epochs: bigint[]; garbage: string[] }> {
  const epochs: bigint[] = [];
  const garbage: string[] = [];
  for await (const o of store.list(LAYOUT_ROOT, { shallow: true })) {
    const epoch = o.kind === 'folder' ? epochOfFolder(o.key) : undefined;
    if (epoch === undefined) garbage.push(o.key);
    else epochs.push(BigInt(epoch));
  }
  epochs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { epochs, garbage };
}

/** Every key under one epoch, sorted into report keys, chunk keys and garbage. */
export async function scanEpoch(store: ObjectStore, epoch: string): Promise<{ reports: string[]; chunks: string[]; garbage: string[] }> {
  const reports: string[] = [];
  const chunks: string[] = [];
  const garbage: string[] = [];
  for await (const o of store.list(epochPrefix(epoch))) {
    const parsed = o.kind === 'object' ? parseKey(o.key) : undefined;
    if (parsed?.kind === 'report') reports.push(o.key);
    else if (parsed?.kind === 'chunk') chunks.push(o.key);
    else garbage.push(o.key);
  }
  return { reports, chunks, garbage };
}

export interface RepositoryReports {
  /** The epoch compared (decimal), or undefined when the repository holds no epoch with enough reports. */
  readonly epoch: string | undefined;
  readonly reports: LoadedReport[];
  readonly failures: InputFailure[];
  /** Keys under the epoch that the layout does not define (ignored). */
  readonly garbage: string[];
}

/**
 * The reports of one epoch, ready for `compareReports`: `epoch` given, or the newest epoch that
 * holds at least `minReports` report objects. Reports are read with bounded concurrency; a bad
 * one is a failure (named by its URL), never the end of the comparison.
 */
export async function loadRepositoryReports(store: ObjectStore, options: { epoch?: string; minReports?: number; concurrency?: number } = {}): Promise<RepositoryReports> {
  let epoch = options.epoch;
  let scan: Awaited<ReturnType<typeof scanEpoch>> | undefined;
  const garbage: string[] = [];
  if (epoch === undefined) {
    const listed = await listEpochs(store);
    garbage.push(...listed.garbage);
    for (const e of listed.epochs.reverse()) {
      const s = await scanEpoch(store, String(e));
      if (s.reports.length >= (options.minReports ?? 2)) {
        epoch = String(e);
        scan = s;
        break;
      }
    }
    if (epoch === undefined) return { epoch, reports: [], failures: [], garbage };
  }
  scan ??= await scanEpoch(store, epoch);
  garbage.push(...scan.garbage);
  const reports: LoadedReport[] = [];
  const failures: InputFailure[] = [];
  await forEachLimited(scan.reports, options.concurrency ?? REPORT_READ_CONCURRENCY, async (key) => {
    const file = store.where(key);
    try {
      const stored = await readStoredReport(store, key);
      if (stored === undefined) failures.push({ file, kind: 'missing', code: 'NOT_FOUND', message: 'listed, then gone (pruned meanwhile?)', offset: null });
      else reports.push({ file, report: stored.report });
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      failures.push({ file: e.file ?? file, kind: e.code === 'IO_ERROR' ? 'unreadable' : 'corrupt', code: e.code, message: e.message, offset: e.offset ?? null });
    }
  });
  // Listing order is the store's; compare's output must not depend on completion order.
  reports.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  failures.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { epoch, reports, failures, garbage };
}

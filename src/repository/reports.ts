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

/** The keys of one epoch, sorted by what the layout says they are. */
export interface EpochKeys {
  readonly reports: string[];
  /** Quorum certificates (one per certified anchor). */
  readonly certificates: string[];
  readonly chunks: string[];
  /** Keys under the epoch that the layout does not define (partial uploads' temporaries, strays). */
  readonly garbage: string[];
}

/**
 * Every key under `prefix` (default: all of v1/epochs/), grouped by epoch, from one flat listing
 * streamed page by page. Flat prefix listings are what every S3-compatible store implements
 * alike (s3rver, for one, does not list common prefixes below the first level), so readers use
 * nothing else. Keys that belong to no epoch are `garbage`.
 */
export async function scanRepository(store: ObjectStore, prefix = LAYOUT_ROOT): Promise<{ epochs: Map<string, EpochKeys>; garbage: string[] }> {
  const epochs = new Map<string, EpochKeys>();
  const garbage: string[] = [];
  for await (const o of store.list(prefix)) {
    const folder = /^v1\/epochs\/([^/]+)\//.exec(o.key);
    const epoch = folder === null ? undefined : epochOfFolder(folder[0]);
    if (epoch === undefined) {
      garbage.push(o.key);
      continue;
    }
    let keys = epochs.get(epoch);
    if (keys === undefined) epochs.set(epoch, (keys = { reports: [], certificates: [], chunks: [], garbage: [] }));
    const parsed = o.kind === 'object' ? parseKey(o.key) : undefined;
    if (parsed?.kind === 'report') keys.reports.push(o.key);
    else if (parsed?.kind === 'chunk') keys.chunks.push(o.key);
    else if (parsed?.kind === 'certificate') keys.certificates.push(o.key);
    else keys.garbage.push(o.key);
  }
  return { epochs, garbage };
}

/** Epochs (decimal) from newest to oldest. */
export function newestFirst(epochs: Iterable<string>): string[] {
  return [...epochs].sort((a, b) => (BigInt(a) < BigInt(b) ? 1 : BigInt(a) > BigInt(b) ? -1 : 0));
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
  const scan = await scanRepository(store, options.epoch === undefined ? LAYOUT_ROOT : epochPrefix(options.epoch));
  const epoch = options.epoch ?? newestFirst(scan.epochs.keys()).find((e) => scan.epochs.get(e)!.reports.length >= (options.minReports ?? 2));
  const keys = epoch === undefined ? undefined : scan.epochs.get(epoch);
  const garbage = [...scan.garbage, ...(keys?.garbage ?? [])];
  if (epoch === undefined) return { epoch, reports: [], failures: [], garbage };
  const reports: LoadedReport[] = [];
  const failures: InputFailure[] = [];
  await forEachLimited(keys?.reports ?? [], options.concurrency ?? REPORT_READ_CONCURRENCY, async (key) => {
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

import { formatDigest } from '../../format/digest.js';
import { toHex } from '../../format/bytes.js';
import type { SnapshotSummary } from '../../format/encoder.js';
import type { RestoreReport } from '../../restore/restore.js';
import { count } from './digest.js';
import { escapeText } from './escape.js';

/** The `digest` command line that reproduces the snapshot digest from the restored database. */
export function digestCommandFor(r: RestoreReport): string {
  const a = r.snapshot.anchor;
  const cursor = a.cursor.eventId === undefined || a.cursor.eventId.length === 0 ? `${a.cursor.index}` : `${a.cursor.index}:${toHex(a.cursor.eventId)}`;
  const tables = r.tables.map((t) => `${t.id}=${t.name}`).join(',');
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `snapshot-verify digest ${quote(r.dir)} --tables ${quote(tables)} --epoch ${a.epoch} --cursor ${cursor} --max-chunk-bytes ${a.maxChunkBytes}`;
}

/** Table digests of the snapshot by table id (anchor-independent, spec 5.1). */
function tableDigests(summary: SnapshotSummary | undefined): Map<number, string> {
  return new Map((summary?.tables ?? []).map((t) => [t.id, formatDigest(t.digest)]));
}

/** The JSON document `restore --json` prints. */
export function restoreJson(r: RestoreReport, summary: SnapshotSummary | undefined): unknown {
  const digests = tableDigests(summary);
  return {
    ok: true,
    mode: r.mode,
    dir: r.dir,
    snapshot: { digest: formatDigest(r.snapshot.digest), entries: String(r.snapshot.entries), epoch: String(r.snapshot.anchor.epoch) },
    tables: r.tables.map((t) => ({ ...t, digest: digests.get(t.id) ?? null })),
    files: r.files,
    bytes: r.bytes,
    ...(r.mode === 'database' ? { digestCommand: digestCommandFor(r) } : {}),
  };
}

/**
 * Human output of `restore`: one summary line, a line per table, then how to check or ingest.
 * The directory and table names come from the user and the snapshot: each line is escaped, so
 * that a name can neither forge a line nor hide part of one (`--json` carries them as they are).
 */
export function renderRestore(r: RestoreReport, summary: SnapshotSummary | undefined): string {
  const digests = tableDigests(summary);
  const what = r.mode === 'database' ? 'RocksDB database' : 'SST files for IngestExternalFile';
  const lines = [`restored snapshot ${formatDigest(r.snapshot.digest)} (verified) into ${r.dir}: ${what}, ${r.files.length} files, ${count(String(r.bytes))} bytes`];
  const width = Math.max(0, ...r.tables.map((t) => t.name.length));
  for (const t of r.tables) {
    const cf = t.columnFamilyId === undefined ? '' : `  column family ${t.columnFamilyId}`;
    lines.push(`  table ${t.name.padEnd(width)}  digest ${digests.get(t.id) ?? '?'}  entries ${count(String(t.entries)).padStart(13)}  files ${t.files.length}${cf}`);
  }
  if (r.mode === 'database') {
    lines.push(`check: ${digestCommandFor(r)}`);
  } else {
    for (const t of r.tables) {
      // ldb ingests one file per call (IngestExternalFile itself takes a list, atomically).
      for (const f of t.files) lines.push(`ingest ${t.name}: ldb --db=DB --column_family=${t.name} ingest_extern_sst ${r.dir}/${f}`);
    }
  }
  return `${lines.map(escapeText).join('\n')}\n`;
}

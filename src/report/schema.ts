/**
 * The digest report: what `digest --json` prints and `compare` consumes. Comparable fields sit at
 * the top level; node-local facts (name, path, timing) live under `node` and are never compared.
 * All u64 values are decimal strings (JSON numbers lose precision beyond 2^53).
 */

/** Bumped when a field is removed or changes meaning; adding optional fields does not bump it. */
export const REPORT_SCHEMA_VERSION = 1;

export interface RangeDigestReport {
  /** Position of the range, 0 … count−1. */
  readonly index: number;
  /** First key prefix of the range (inclusive), hex; see src/report/ranges.ts for the boundaries. */
  readonly start: string;
  /** End key prefix (exclusive), hex; empty for the last range (no upper bound). */
  readonly end: string;
  readonly entries: string;
  /** xxhash64 of the range's ENTRY records, exactly as the table digest covers them. */
  readonly digest: string;
}

export interface TableReport {
  readonly id: number;
  readonly name: string;
  readonly entries: string;
  /** Sum of key and value lengths. */
  readonly bytes: string;
  /** The table digest of the format (xxhash64 of the table's ENTRY records), 16 hex digits. */
  readonly digest: string;
  /** Present with `digest --ranges K`. */
  readonly ranges?: readonly RangeDigestReport[];
}

export interface ChunkReport {
  readonly index: number;
  readonly bytes: number;
  readonly digest: string;
}

/** Node-local facts: shown by compare to name nodes, never compared. */
export interface NodeInfo {
  /** `digest --node NAME`, default the host name. */
  readonly name: string;
  /** The checkpoint or snapshot path as given. */
  readonly source: string;
  /** The kind of source that read it: snapshot, dump, rocksdb. */
  readonly sourceKind: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly toolVersion: string;
  /** Present (true) when the source was a live database read with `--allow-live`. */
  readonly live?: boolean;
  /** `digest BACKUP_DIR`: the id of the backup digested (the newest, unless `--backup-id`). */
  readonly backupId?: number;
  /** `digest --anchor FILE`: the anchor file's path as given. */
  readonly anchorFile?: string;
}

/** Something the source tolerated rather than read (never silently): present in `warnings`. */
export interface ReportWarning {
  /** Stable: WAL_TAIL_DROPPED (a torn tail of the newest WAL was dropped), WAL_SEQUENCE_GAP (sequence numbers no WAL file holds). */
  readonly code: string;
  readonly file: string;
  /** Offset of the first byte dropped. */
  readonly offset: number;
  /** Bytes dropped. */
  readonly bytes: number;
  readonly message: string;
}

/**
 * `digest --sign-key`: an Ed25519 signature over the report's statement (spec/STATEMENT.md), the
 * canonical bytes of every attested field, the node name and the key. Never over the JSON text.
 */
export interface ReportSignature {
  readonly scheme: 'ed25519';
  /** Version of the statement encoding signed (spec/STATEMENT.md). */
  readonly statementVersion: number;
  /** The signer's raw public key, 64 lowercase hex digits. */
  readonly publicKey: string;
  /** The 64-byte signature, 128 lowercase hex digits. */
  readonly value: string;
}

export interface DigestReport {
  readonly schemaVersion: number;
  readonly formatVersion: number;
  readonly epoch: string;
  readonly cursor: { readonly index: string; readonly eventIdHex: string };
  readonly maxChunkBytes: string;
  /** Number of key ranges per table, 0 when not computed. Part of the anchor only for range digests. */
  readonly rangesPerTable: number;
  readonly digest: string;
  readonly entries: string;
  readonly bytes: string;
  readonly tables: readonly TableReport[];
  readonly chunks: readonly ChunkReport[];
  readonly node: NodeInfo;
  /** Present when the source tolerated something (a dropped WAL tail); never compared. */
  readonly warnings?: readonly ReportWarning[];
  /** Present when the report was signed (`digest --sign-key`). */
  readonly signature?: ReportSignature;
  /** With `digest --anchor FILE`: the digest of the anchor file's canonical form (docs/ANCHOR.md); absent without one. */
  readonly anchorDigest?: string;
}

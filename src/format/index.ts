/** Snapshot format v1: the writer, the reader and what they share. Knows nothing of sources or the CLI. */
export * from './constants.js';
export { compareBytes, toHex } from './bytes.js';
export { formatDigest, loadHasher, newHasher, parseDigest, xxh64, type Hasher64 } from './digest.js';
export type { Entry } from './entry.js';
export { decodeError, SnapshotDecoder, type DecoderEvents, type DecoderOptions } from './decoder.js';
export {
  SnapshotEncoder,
  type ChunkSummary,
  type EncoderOptions,
  type EncoderOutput,
  type SnapshotSummary,
  type TableSummary,
} from './encoder.js';
export { SnapshotError, isSnapshotError, type ErrorCode, type FormatErrorCode, type SourceErrorCode } from './errors.js';
export { sameAnchor, type ChunkHeader, type Cursor, type SnapshotAnchor, type TableRef } from './header.js';
export { resolveLimits, type SnapshotLimits } from './limits.js';
export { packEntries, PackedEntriesBuilder, unpackEntries, type PackedEntries } from './packed.js';
export {
  readSnapshot,
  readSnapshotContent,
  verifySnapshot,
  type SnapshotContent,
  type SnapshotEvent,
  type SnapshotInput,
} from './reader.js';
export { chunkFileName, checkDestination, fileSink, nullSink, streamSink, tempFilePattern, type SnapshotSink } from './sinks.js';
export { CHUNK_SET_MAGIC, chunkSetFileName, readChunkSet, type ChunkFiles, type ChunkSet } from './chunk-set.js';
export type { FileList } from './file-list.js';
export { digestSnapshot, SnapshotWriter, writeSnapshot, type TableContent } from './writer.js';
export { encodeSnapshot, type EncodedSnapshot } from './memory.js';

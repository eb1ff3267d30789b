/**
 * Hostile bytes: whatever a MANIFEST record, a WriteBatch or a log file holds, only
 * SnapshotError escapes (never RangeError, TypeError, a hang or an unbounded allocation).
 */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { isSnapshotError } from '../../../src/format/errors.js';
import { readLogRecords } from '../../../src/sources/rocksdb/log-reader.js';
import { decodeVersionEdit } from '../../../src/sources/rocksdb/version-edit.js';
import { cleanup, readAll, tempDir } from './helpers.js';
import { TestLogWriter, varint } from './log-writer.js';

const root = tempDir();
afterAll(() => cleanup(root));
let n = 0;

function onlySnapshotErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!isSnapshotError(e)) throw e;
  }
}

/** Bytes biased towards the tags and small varints that reach deep into the decoders. */
const editBytes = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 255 }).map((b) => [b]),
    fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 9, 10, 100, 102, 103, 200, 201, 202, 203, 300, 400, 401, 8193, 8196, 8197, 8198, 8199, 9999).map(varint),
    fc.constantFrom([0x80], [0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]),
  ),
  { maxLength: 60 },
).map((parts) => Uint8Array.from(parts.flat()));

describe('hostile input', () => {
  test('decodeVersionEdit on arbitrary bytes throws only SnapshotError', () => {
    fc.assert(fc.property(editBytes, (b) => onlySnapshotErrors(() => decodeVersionEdit(b, 'M', 0))), { numRuns: 3000 });
  });

  test('the log reader on arbitrary bytes throws only SnapshotError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (b, tolerate) => {
        const path = join(root, `log-${n++}`);
        writeFileSync(path, b);
        try {
          for await (const _ of readLogRecords(path, { logNumber: 1, maxRecordBytes: 1 << 20, tail: tolerate ? 'tolerate' : 'error' })) {
            // drain
          }
        } catch (e) {
          if (!isSnapshotError(e)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a checkpoint whose MANIFEST and WAL records are arbitrary (validly framed) bytes raises only SnapshotError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(editBytes, { maxLength: 4 }), fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 4 }), async (edits, batches) => {
        const dir = join(root, `cp-${n++}`);
        mkdirSync(dir);
        const m = new TestLogWriter();
        m.add(Uint8Array.from([3, 9, 4, 0]));
        for (const e of edits) m.add(e);
        writeFileSync(join(dir, 'MANIFEST-000001'), m.bytes());
        writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000001\n');
        const w = new TestLogWriter();
        for (const b of batches) w.add(b);
        writeFileSync(join(dir, '000002.log'), w.bytes());
        try {
          await readAll(dir);
        } catch (e) {
          if (!isSnapshotError(e)) throw e;
          expect(['CORRUPT_CHECKPOINT', 'UNSUPPORTED_FEATURE']).toContain(e.code);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * Writes RocksDB's log format (db/log_writer.cc), the writer of log-reader.ts: 32 KiB blocks,
 * each physical record `masked crc32c (4) | length (2) | type (1) | payload`, a logical record
 * split into FIRST/MIDDLE/LAST fragments at block boundaries, block tails shorter than a header
 * zero-filled. Non-recyclable records only (what a new MANIFEST holds).
 */
import { crc32cExtend, crc32cMask } from './util/crc32c.js';
import { LOG_BLOCK_SIZE } from './log-reader.js';

const HEADER_SIZE = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

/** Accumulates the bytes of one log file in memory (MANIFESTs are small). */
export class LogWriter {
  readonly #parts: Uint8Array[] = [];
  #offset = 0;

  /** Appends one logical record. */
  add(payload: Uint8Array): void {
    let at = 0;
    let first = true;
    do {
      const room = LOG_BLOCK_SIZE - (this.#offset % LOG_BLOCK_SIZE);
      if (room < HEADER_SIZE) {
        this.#push(new Uint8Array(room));
        continue;
      }
      const n = Math.min(payload.length - at, room - HEADER_SIZE);
      const end = at + n === payload.length;
      const type = first && end ? FULL : first ? FIRST : end ? LAST : MIDDLE;
      const header = new Uint8Array(HEADER_SIZE);
      header[6] = type;
      // The CRC covers the type byte and the payload.
      const crc = crc32cMask(crc32cExtend(crc32cExtend(0, header, 6, 7), payload, at, at + n));
      new DataView(header.buffer).setUint32(0, crc, true);
      header[4] = n & 0xff;
      header[5] = n >>> 8;
      this.#push(header);
      this.#push(payload.subarray(at, at + n));
      at += n;
      first = false;
    } while (at < payload.length);
  }

  #push(b: Uint8Array): void {
    this.#parts.push(b);
    this.#offset += b.length;
  }

  /** The whole file. */
  bytes(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

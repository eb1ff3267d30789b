// The floor under reading a chunk set (bench/chunks.mjs): what the file system alone costs a
// reader of one file per chunk. Opens, reads and closes every chunk file the set file P names,
// into one reused buffer, with the same three calls per file the reader makes (no fstat, and no
// second read: a read shorter than the buffer ends a regular file), and decodes nothing. Run as
// its own process, like the commands it is compared with, so Node's start-up is in both.
//
//   node bench/set-read-floor.mjs P
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';

const set = process.argv[2];
const names = readFileSync(set, 'latin1').split('\n').slice(3, -1);
const buffer = Buffer.alloc(1 << 20);
let bytes = 0;
for (const name of names) {
  const fd = openSync(join(dirname(set), name), 'r');
  for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
    bytes += n;
    if (n < buffer.length) break;
  }
  closeSync(fd);
}
console.log(`${names.length} files, ${bytes} bytes`);

import { parentPort } from 'node:worker_threads';
import { SnapshotError } from '../format/errors.js';
import { decodeChunkFiles, type VerifyOutcome } from './verify-in-order.js';

/**
 * The worker of verifyChunkFiles: receives `{ file }` for each chunk file in order, then `{ end }`,
 * decodes them as one snapshot and posts one VerifyOutcome.
 */
const port = parentPort!;
const queue: (string | undefined)[] = [];
let wake: (() => void) | undefined;
port.on('message', (m: { file?: string; end?: true }) => {
  queue.push(m.end === true ? undefined : m.file);
  wake?.();
});

async function* arriving(): AsyncGenerator<string> {
  for (;;) {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const file = queue.shift();
    if (file === undefined) return;
    yield file;
  }
}

let outcome: VerifyOutcome;
try {
  outcome = { summary: await decodeChunkFiles(arriving()) };
} catch (e) {
  outcome = { error: e instanceof SnapshotError ? { code: e.code, message: e.message, offset: e.offset, file: e.file } : { internal: String(e) } };
}
port.postMessage(outcome);
port.close();

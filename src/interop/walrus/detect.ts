import { open } from 'node:fs/promises';
import { isWalrusMagic } from './constants.js';

/** True when `path` is a file starting with Walrus's snapshot magic (0xB10B1F05). */
export async function isWalrusSnapshotFile(path: string): Promise<boolean> {
  const h = await open(path, 'r').catch(() => undefined);
  if (h === undefined) return false;
  try {
    const b = new Uint8Array(4);
    const { bytesRead } = await h.read(b, 0, 4, 0);
    return bytesRead === 4 && isWalrusMagic(b);
  } finally {
    await h.close();
  }
}

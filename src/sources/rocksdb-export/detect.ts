/** Telling an exported column family apart without loading its reader (open.ts). */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** True when `dir` holds an exported column family's `metadata.json` (index.ts). */
export async function isExportDirectory(dir: string): Promise<boolean> {
  return (await stat(join(dir, 'metadata.json')).catch(() => undefined)) !== undefined;
}

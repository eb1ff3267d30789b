import type { SnapshotSink } from '../../format/sinks.js';
import { nullSink } from '../../format/sinks.js';
import type { Source } from '../../sources/source.js';
import { WALRUS_SECTIONS } from './constants.js';
import { WalrusSnapshotWriter, type WalrusSnapshotHeader, type WalrusSnapshotSummary } from './writer.js';

/**
 * Writes a source's three Walrus tables as Walrus snapshot bytes. Each table is read twice: once
 * to count its entries (the count precedes them and our sinks cannot seek back), then to write
 * them; memory stays constant. The sink is aborted on failure.
 */
export async function writeWalrusSnapshotFromSource(
  source: Source,
  header: WalrusSnapshotHeader,
  options: { sink?: SnapshotSink; onProgress?: (entries: bigint, table: string) => void } = {},
): Promise<WalrusSnapshotSummary> {
  const writer = await WalrusSnapshotWriter.create(options.sink ?? nullSink(), header);
  let written = 0n;
  try {
    for (const { table } of WALRUS_SECTIONS) {
      let count = 0n;
      for await (const batch of source.entries(table)) count += BigInt(batch.length);
      writer.beginSection(count);
      for await (const batch of source.entries(table)) {
        for (const e of batch) {
          const r = writer.add(e.key, e.value);
          if (r !== undefined) await r;
        }
        written += BigInt(batch.length);
        options.onProgress?.(written, table);
      }
      writer.endSection();
    }
    await source.complete?.();
    return await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

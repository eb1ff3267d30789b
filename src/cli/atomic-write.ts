import { fileSink } from '../format/sinks.js';

/** Writes a small text file atomically (temporary file, fsync, rename), as `--out` does. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const sink = fileSink(path);
  try {
    await sink.write(new TextEncoder().encode(text));
    await sink.close();
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

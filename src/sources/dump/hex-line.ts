import { SnapshotError } from '../../format/errors.js';

/**
 * Parses one line of `ldb scan --hex` output: `0xKEY : 0xVALUE`. Hex digits may be upper or
 * lower case (ldb prints upper case); an empty key or value is `0x`. Returns undefined for a
 * blank line. `file`, `line` and `offset` locate errors.
 */
export function parseHexLine(text: string, file: string, offset: number): { key: Uint8Array; value: Uint8Array } | undefined {
  if (text.length === 0 || /^\s*$/.test(text)) return undefined;
  const m = /^0x([0-9a-fA-F]*) : 0x([0-9a-fA-F]*)\r?$/.exec(text);
  if (m === null) {
    throw new SnapshotError('BAD_DUMP', `line is not "0xKEY : 0xVALUE": ${JSON.stringify(text.slice(0, 80))}`, { file, offset });
  }
  const [, keyHex, valueHex] = m as unknown as [string, string, string];
  if (keyHex.length % 2 !== 0 || valueHex.length % 2 !== 0) {
    throw new SnapshotError('BAD_DUMP', 'odd number of hex digits', { file, offset });
  }
  return { key: Buffer.from(keyHex, 'hex'), value: Buffer.from(valueHex, 'hex') };
}

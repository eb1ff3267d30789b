/**
 * `diff --decode`: keys and values rendered for people. A decoder returns undefined for bytes it
 * cannot decode, and the caller shows hex instead: an undecodable value is never an error.
 */

export const DECODE_MODES = ['hex', 'utf8', 'json', 'msgpack'] as const;
export type DecodeMode = (typeof DECODE_MODES)[number];

/** Bytes as text, or undefined when they are not in this encoding. */
export type Decoder = (bytes: Uint8Array) => string | undefined;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** JSON of a decoded value: bigints as decimal, byte strings as 0x-hex, maps as objects. */
function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), x]));
    return v;
  });
}

/**
 * The decoder for a mode; `msgpack` loads @msgpack/msgpack here, so no other path pays for it.
 * hex returns undefined for everything (the caller's hex is the rendering).
 */
export async function loadDecoder(mode: DecodeMode): Promise<Decoder> {
  switch (mode) {
    case 'hex':
      return () => undefined;
    case 'utf8':
      return (bytes) => {
        const s = text(bytes);
        // Control characters other than tab and newline would garble a terminal: hex instead.
        return s === undefined || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(s) ? undefined : JSON.stringify(s);
      };
    case 'json':
      return (bytes) => {
        const s = text(bytes);
        if (s === undefined || s.trim() === '') return undefined;
        try {
          return show(JSON.parse(s));
        } catch {
          return undefined;
        }
      };
    case 'msgpack': {
      const { Decoder: MsgpackDecoder } = await import('@msgpack/msgpack');
      const decoder = new MsgpackDecoder({ useBigInt64: true });
      return (bytes) => {
        if (bytes.length === 0) return undefined;
        try {
          return show(decoder.decode(bytes));
        } catch {
          return undefined; // not msgpack, or trailing bytes after one value
        }
      };
    }
  }
}

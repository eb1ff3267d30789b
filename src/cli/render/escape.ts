/**
 * Text from inputs (node, table and file names, messages quoting them) as printed for people:
 * control characters, escape sequences, line and paragraph separators and bidirectional
 * overrides become visible escapes, so that a name can neither forge an output line nor hide
 * part of one. Backslash is escaped too, which makes the escaping unambiguous. JSON output
 * carries the text as it is. Pure.
 */
export function escapeText(s: string): string {
  // Fast path: almost every name is plain.
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE_ALL, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** C0 and C1 controls, DEL, backslash, U+2028/U+2029, and bidirectional embedding/override/isolate marks. */
const UNSAFE_SOURCE = '[\\u0000-\\u001f\\u007f-\\u009f\\\\\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c]';
const UNSAFE = new RegExp(UNSAFE_SOURCE);
const UNSAFE_ALL = new RegExp(UNSAFE_SOURCE, 'g');
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

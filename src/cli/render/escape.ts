/**
 * Text output shows names as data, never as terminal control: a node, table or file name holding
 * a newline, an escape sequence or another control character could otherwise print a fake verdict
 * line. C0 and C1 controls and DEL become `\xNN`, and a backslash `\\`, so the escaped text is
 * unambiguous. JSON output carries names unchanged (JSON escapes them itself).
 */
export function escapeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f\\]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

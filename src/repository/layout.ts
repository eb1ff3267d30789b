import { crypto } from '../format/crypto.js';
import { SnapshotError } from '../format/errors.js';
import type { DigestReport } from '../report/schema.js';

/**
 * The repository layout, version 1 (spec/REPOSITORY.md sections 2 and 3): keys, the anchor id,
 * node name encoding, and parsing keys back. Pure: no I/O.
 */

export const LAYOUT_ROOT = 'v1/epochs/';
export const REPORT_NAME = 'report.json';
const MAX_NODE_PART = 255;

/** The anchor fields of a report, as the anchor id hashes them. */
export type AnchorFields = Pick<DigestReport, 'formatVersion' | 'epoch' | 'cursor' | 'maxChunkBytes' | 'tables'>;

/** The canonical text of an anchor (spec section 3). */
export function anchorText(r: AnchorFields): string {
  const lines = [
    'snapshot-verify anchor 1',
    `format ${r.formatVersion}`,
    `epoch ${r.epoch}`,
    `cursor ${r.cursor.index} ${r.cursor.eventIdHex}`,
    `max-chunk-bytes ${r.maxChunkBytes}`,
    ...[...r.tables].sort((a, b) => a.id - b.id).map((t) => `table ${t.id} ${JSON.stringify(t.name)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The anchor id: the first 16 bytes of SHA-256 of the anchor text, 32 lowercase hex digits. */
export function anchorId(r: AnchorFields): string {
  return crypto().createHash('sha256').update(anchorText(r), 'utf8').digest('hex').slice(0, 32);
}

/** A node name as one key part: [A-Za-z0-9_-] and non-leading '.' kept, every other UTF-8 byte %XX. */
export function encodeNodeName(name: string): string {
  let out = '';
  const bytes = Buffer.from(name, 'utf8');
  bytes.forEach((b, i) => {
    const keep = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x5f || (b === 0x2e && i > 0);
    out += keep ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  });
  if (out.length === 0 || out.length > MAX_NODE_PART) {
    throw new SnapshotError('INVALID_ARGUMENT', `node name ${JSON.stringify(name)} encodes to ${out.length} bytes as a key part; it must be 1 to ${MAX_NODE_PART}`);
  }
  return out;
}

export function epochPrefix(epoch: string): string {
  return `${LAYOUT_ROOT}${epoch}/`;
}

export function nodePrefix(epoch: string, anchor: string, node: string): string {
  return `${epochPrefix(epoch)}${anchor}/${encodeNodeName(node)}/`;
}

export function reportKey(epoch: string, anchor: string, node: string): string {
  return `${nodePrefix(epoch, anchor, node)}${REPORT_NAME}`;
}

export function chunkKey(epoch: string, anchor: string, node: string, index: number, digest: string): string {
  return `${nodePrefix(epoch, anchor, node)}chunks/${String(index).padStart(6, '0')}-${digest}`;
}

/** The folder of an epoch's quorum certificates: `certificates` is never an anchor id (32 hex digits). */
export const CERTIFICATES = 'certificates';

/** Where the quorum certificate of one anchor of an epoch is kept (spec section 2a). */
export function certificateKey(epoch: string, anchor: string): string {
  return `${epochPrefix(epoch)}${CERTIFICATES}/${anchor}.json`;
}

/** Where a report belongs: its epoch, anchor id and node. */
export function reportKeyOf(r: DigestReport): string {
  return reportKey(r.epoch, anchorId(r), r.node.name);
}

/** What a key under v1/epochs/ is; undefined for anything the layout does not define (garbage). */
export type ParsedKey =
  | { readonly kind: 'report'; readonly epoch: string; readonly anchorId: string; readonly node: string }
  | { readonly kind: 'certificate'; readonly epoch: string; readonly anchorId: string }
  | { readonly kind: 'chunk'; readonly epoch: string; readonly anchorId: string; readonly node: string; readonly index: number; readonly digest: string };

const EPOCH = /^(0|[1-9]\d{0,19})$/;
const ANCHOR_ID = /^[0-9a-f]{32}$/;
const NODE = /^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})(?:[A-Za-z0-9_.-]|%[0-9A-F]{2}){0,254}$/;
const CHUNK = /^(\d{6,10})-([0-9a-f]{16})$/;

export function parseKey(key: string): ParsedKey | undefined {
  if (!key.startsWith(LAYOUT_ROOT)) return undefined;
  const parts = key.slice(LAYOUT_ROOT.length).split('/');
  const [epoch, anchor, node] = parts;
  if (epoch === undefined || anchor === undefined || node === undefined) return undefined;
  if (parts.length === 3 && anchor === CERTIFICATES && EPOCH.test(epoch) && BigInt(epoch) <= 0xffff_ffff_ffff_ffffn) {
    const id = node.endsWith('.json') ? node.slice(0, -'.json'.length) : '';
    return ANCHOR_ID.test(id) ? { kind: 'certificate', epoch, anchorId: id } : undefined;
  }
  if (!EPOCH.test(epoch) || BigInt(epoch) > 0xffff_ffff_ffff_ffffn || !ANCHOR_ID.test(anchor) || !NODE.test(node) || node.length > MAX_NODE_PART) return undefined;
  if (parts.length === 4 && parts[3] === REPORT_NAME) return { kind: 'report', epoch, anchorId: anchor, node };
  if (parts.length === 5 && parts[3] === 'chunks') {
    const m = CHUNK.exec(parts[4]!);
    if (m === null) return undefined;
    const index = Number(m[1]);
    if (String(index).padStart(6, '0') !== m[1] || index > 0xffff_ffff) return undefined;
    return { kind: 'chunk', epoch, anchorId: anchor, node, index, digest: m[2]! };
  }
  return undefined;
}

/** The epoch of a `v1/epochs/<epoch>/` prefix; undefined if not canonical decimal. */
export function epochOfFolder(key: string): string | undefined {
  const m = /^v1\/epochs\/([^/]+)\/$/.exec(key);
  return m !== null && EPOCH.test(m[1]!) && BigInt(m[1]!) <= 0xffff_ffff_ffff_ffffn ? m[1] : undefined;
}

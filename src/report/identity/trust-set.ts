import { SnapshotError } from '../../format/errors.js';
import { parseJsonObject } from './json.js';
import { parsePublicKey } from './keys.js';
import { MAX_NODE_NAME_BYTES } from './statement.js';

/**
 * The trust set: which node names hold which keys, and how much each vote weighs. Pure: the CLI
 * reads the trust file or the directory of `<node>.pub` files and passes their texts here.
 * Any flaw (duplicate name or key, malformed key, weight not a positive integer) rejects the
 * whole set: a trust set that is half right would count the wrong votes.
 */

export interface TrustMember {
  readonly name: string;
  /** Raw Ed25519 public key, 64 lowercase hex digits. */
  readonly publicKey: string;
  /** A positive integer; 1 unless the trust file says otherwise. */
  readonly weight: number;
}

export interface TrustSet {
  /** Sorted by name (bytewise), so that everything derived from the set is in one order. */
  readonly members: readonly TrustMember[];
  readonly totalWeight: number;
}

/** Version of the JSON trust file this tool reads. */
export const TRUST_FILE_VERSION = 1;
/** Largest weight of one member; keeps every total exact in a double. */
export const MAX_WEIGHT = 0xffff_ffff;
/** Most members of a trust set. */
export const MAX_TRUST_MEMBERS = 100_000;

/**
 * A trust set from a JSON trust file (spec/STATEMENT.md section 5):
 * `{"trustVersion": 1, "nodes": [{"name": "n1", "publicKey": "<64 hex or SPKI PEM>", "weight": 3}]}`.
 * An array, not an object keyed by name, so a duplicate name is visible instead of silently dropped.
 */
export function parseTrustFile(text: string, file: string): TrustSet {
  const bad = (message: string): never => {
    throw new SnapshotError('BAD_TRUST', message, { file });
  };
  const v = parseJsonObject(text, 'BAD_TRUST', file, 'a JSON trust file {"trustVersion": 1, "nodes": [...]}');
  if (v['trustVersion'] !== TRUST_FILE_VERSION) bad(`trustVersion: this tool reads version ${TRUST_FILE_VERSION}, got ${JSON.stringify(v['trustVersion'])}`);
  const nodes = v['nodes'];
  if (!Array.isArray(nodes)) return bad('nodes: expected an array of {"name", "publicKey", "weight"}');
  const members = nodes.map((n: unknown, i): TrustMember => {
    const p = `nodes[${i}]`;
    if (typeof n !== 'object' || n === null || Array.isArray(n)) return bad(`${p}: expected an object`);
    const m = n as Record<string, unknown>;
    if (typeof m['publicKey'] !== 'string') return bad(`${p}.publicKey: expected a string (64 hex digits or SPKI PEM)`);
    const weight = m['weight'] ?? 1;
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
      return bad(`${p}.weight: expected a positive integer up to ${MAX_WEIGHT}, got ${JSON.stringify(weight)}`);
    }
    return { name: checkName(m['name'], `${p}.name`, file), publicKey: parsePublicKey(m['publicKey'], `${file} ${p}.publicKey`), weight };
  });
  return trustSet(members, file);
}

/**
 * A trust set from the `<node-name>.pub` files of a directory (as keygen writes them), every weight 1.
 * `files` are the directory's `.pub` files: the name without `.pub` is the node name.
 */
export function trustSetFromKeyFiles(files: readonly { readonly fileName: string; readonly text: string }[], dir: string): TrustSet {
  const members = files.map((f): TrustMember => {
    const name = checkName(f.fileName.replace(/\.pub$/, ''), f.fileName, dir);
    return { name, publicKey: parsePublicKey(f.text, `${dir}/${f.fileName}`), weight: 1 };
  });
  return trustSet(members, dir);
}

function checkName(name: unknown, path: string, file: string): string {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > MAX_NODE_NAME_BYTES) {
    throw new SnapshotError('BAD_TRUST', `${path}: expected a node name of 1 to ${MAX_NODE_NAME_BYTES} bytes, got ${JSON.stringify(name)}`, { file });
  }
  return name;
}

/** Checks a list of members (names and keys unique, at least one) and makes the set. */
export function trustSet(members: readonly TrustMember[], file: string): TrustSet {
  const bad = (message: string): never => {
    throw new SnapshotError('BAD_TRUST', message, { file });
  };
  if (members.length === 0) bad('the trust set is empty: no node could ever be counted');
  if (members.length > MAX_TRUST_MEMBERS) bad(`${members.length} members, more than ${MAX_TRUST_MEMBERS}`);
  const names = new Map<string, TrustMember>();
  const keys = new Map<string, TrustMember>();
  for (const m of members) {
    if (names.has(m.name)) bad(`node name ${JSON.stringify(m.name)} appears twice`);
    const other = keys.get(m.publicKey);
    if (other !== undefined) bad(`nodes ${JSON.stringify(other.name)} and ${JSON.stringify(m.name)} have the same public key: one key is one vote`);
    names.set(m.name, m);
    keys.set(m.publicKey, m);
  }
  const sorted = [...members].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  return { members: sorted, totalWeight: sorted.reduce((s, m) => s + m.weight, 0) };
}

/** The member holding a key, if any. */
export function memberByKey(set: TrustSet, publicKey: string): TrustMember | undefined {
  return set.members.find((m) => m.publicKey === publicKey);
}

import { SnapshotError } from '../format/errors.js';
import { MAX_CERTIFICATE_BYTES, type CertifiedContent } from '../report/identity/certificate.js';
import { anchorId, certificateKey, CERTIFICATES, epochPrefix, parseKey } from './layout.js';
import { getObject, tooLarge, type ObjectStore } from './store.js';

/** A certificate as the repository holds it: its key and exact text. */
export interface StoredCertificate {
  readonly key: string;
  readonly url: string;
  readonly text: string;
}

/** Where a certificate of this content is kept: under its epoch, named by its anchor id. */
export function certificateKeyOf(content: CertifiedContent): string {
  return certificateKey(content.epoch, anchorId(content));
}

/**
 * Writes a quorum certificate write-once (spec/REPOSITORY.md 2a, 5): 'created', or 'exists' when
 * the repository already holds exactly these bytes (certify run again). Other bytes under the key
 * are CONFLICT: certificates are never replaced, and the message says whether the one kept
 * certifies the same content (other signers) or other content (two quorums disagree).
 */
export async function publishCertificate(store: ObjectStore, content: CertifiedContent, text: string): Promise<{ key: string; url: string; outcome: 'created' | 'exists' }> {
  const key = certificateKeyOf(content);
  const bytes = new TextEncoder().encode(text);
  const outcome = await store.putIfAbsent(key, { bytes });
  if (outcome === 'exists') {
    const existing = await getObject(store, key, MAX_CERTIFICATE_BYTES).catch((e: unknown) => {
      if (e instanceof SnapshotError && e.code === 'LIMIT_EXCEEDED') return new Uint8Array(0);
      throw e;
    });
    if (existing === undefined) throw new SnapshotError('IO_ERROR', 'the store said the certificate exists, then could not find it', { file: store.where(key) });
    if (!Buffer.from(existing).equals(bytes)) {
      const kept = parseLoosely(existing);
      const same = kept !== undefined && kept['digest'] === content.digest;
      const why = same
        ? `it certifies the same snapshot digest ${content.digest} with other signers or another quorum rule`
        : `it certifies ${kept === undefined ? 'something unreadable' : `snapshot digest ${String(kept['digest'])}`}, this one ${content.digest}: two quorums disagree`;
      throw new SnapshotError('CONFLICT', `a different certificate for this anchor is already in the repository (${why}); certificates are write-once`, { file: store.where(key) });
    }
  }
  return { key, url: store.where(key), outcome };
}

/**
 * The certificate of an epoch's anchor: `anchor` given, or the only one the epoch holds
 * (several: INVALID_ARGUMENT naming them, choose with --anchor-id; none: NOT_FOUND).
 */
export async function readRepositoryCertificate(store: ObjectStore, epoch: string, anchor?: string): Promise<StoredCertificate> {
  let key: string;
  if (anchor !== undefined) key = certificateKey(epoch, anchor);
  else {
    const keys: string[] = [];
    for await (const o of store.list(`${epochPrefix(epoch)}${CERTIFICATES}/`)) if (o.kind === 'object' && parseKey(o.key)?.kind === 'certificate') keys.push(o.key);
    if (keys.length > 1) throw new SnapshotError('INVALID_ARGUMENT', `epoch ${epoch} holds certificates of ${keys.length} anchors; choose one with --anchor-id: ${keys.map((k) => parseKey(k)!.anchorId).sort().join(', ')}`);
    if (keys.length === 0) throw new SnapshotError('NOT_FOUND', `no certificate for epoch ${epoch} in the repository (certify writes one)`, { file: store.where(`${epochPrefix(epoch)}${CERTIFICATES}/`) });
    key = keys[0]!;
  }
  const url = store.where(key);
  const bytes = await getObject(store, key, MAX_CERTIFICATE_BYTES).catch((e: unknown) => {
    if (e instanceof SnapshotError && e.code === 'LIMIT_EXCEEDED') throw new SnapshotError('BAD_CERTIFICATE', tooLarge(url, MAX_CERTIFICATE_BYTES).message, { file: url });
    throw e;
  });
  if (bytes === undefined) throw new SnapshotError('NOT_FOUND', `no certificate for epoch ${epoch} and anchor ${anchor ?? ''}`, { file: url });
  return { key, url, text: new TextDecoder().decode(bytes) };
}

function parseLoosely(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

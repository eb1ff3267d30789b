import type { KeyObject } from 'node:crypto';
import { crypto } from '../../format/crypto.js';
import { SnapshotError } from '../../format/errors.js';
import { PUBLIC_KEY_BYTES } from './statement.js';

/**
 * Ed25519 keys and signatures (RFC 8032, pure Ed25519: no pre-hash, no context) through Node's
 * built-in crypto. Pure functions over texts and bytes: the CLI reads and writes the key files.
 * A public key travels as 64 lowercase hex digits of its 32 raw bytes.
 */

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 raw key bytes follow it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Raw Ed25519 signature length. */
export const SIGNATURE_BYTES = 64;

/** A new key pair: the PKCS#8 PEM private key, the SPKI PEM public key, and the public key in hex. */
export function generateKeyPair(): { privateKeyPem: string; publicKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = crypto().generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    publicKey: rawPublicKey(publicKey),
  };
}

/** An Ed25519 private key from PEM text (PKCS#8, as keygen and `openssl genpkey -algorithm ed25519` write it). */
export function parsePrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = crypto().createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new SnapshotError('BAD_KEY', `not a PEM private key: ${(e as Error).message}`, { file: where });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SnapshotError('BAD_KEY', `a ${key.asymmetricKeyType ?? 'unknown'} key; signing needs an Ed25519 key`, { file: where });
  return key;
}

/**
 * An Ed25519 public key, as hex, from SPKI PEM text (`node.pub`) or from 64 hex digits.
 * Anything else (another algorithm, a private key, a wrong length) is BAD_KEY.
 */
export function parsePublicKey(text: string, where: string): string {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase();
  if (!t.startsWith('-----BEGIN PUBLIC KEY-----')) {
    throw new SnapshotError('BAD_KEY', 'expected an Ed25519 public key: SPKI PEM ("-----BEGIN PUBLIC KEY-----") or 64 hex digits', { file: where });
  }
  let key: KeyObject;
  try {
    key = crypto().createPublicKey({ key: t, format: 'pem' });
  } catch (e) {
    throw new SnapshotError('BAD_KEY', `not a PEM public key: ${(e as Error).message}`, { file: where });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SnapshotError('BAD_KEY', `a ${key.asymmetricKeyType ?? 'unknown'} key; trust sets hold Ed25519 keys`, { file: where });
  return rawPublicKey(key);
}

/** The raw public key (hex) of a public or private Ed25519 key. */
export function rawPublicKey(key: KeyObject): string {
  const der = (key.type === 'private' ? crypto().createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
  return der.subarray(SPKI_ED25519_PREFIX.length).toString('hex');
}

/** The SPKI PEM text of a raw public key (hex). */
export function publicKeyPem(publicKey: string): string {
  return publicKeyObject(publicKey).export({ type: 'spki', format: 'pem' }) as string;
}

function publicKeyObject(publicKey: string): KeyObject {
  return crypto().createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(publicKey, 'hex')]), format: 'der', type: 'spki' });
}

/** A short name for a key, for people: `sha256:` and the first 16 hex digits of SHA-256 over the raw key. */
export function fingerprint(publicKey: string): string {
  return `sha256:${crypto().createHash('sha256').update(Buffer.from(publicKey, 'hex')).digest('hex').slice(0, 16)}`;
}

/** Signs bytes with an Ed25519 private key; the 64-byte signature in hex. Deterministic (RFC 8032). */
export function signBytes(bytes: Uint8Array, privateKey: KeyObject): string {
  return crypto().sign(null, bytes, privateKey).toString('hex');
}

/** True when `signature` (hex) is a valid Ed25519 signature of `bytes` by `publicKey` (hex); false for any malformed input. */
export function verifyBytes(bytes: Uint8Array, signature: string, publicKey: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(signature) || !/^[0-9a-f]{64}$/.test(publicKey) || publicKey.length !== PUBLIC_KEY_BYTES * 2) return false;
  try {
    return crypto().verify(null, bytes, publicKeyObject(publicKey), Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

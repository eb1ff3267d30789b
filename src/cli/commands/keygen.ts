import type { KeyObject } from 'node:crypto';
import { crypto } from '../../format/crypto.js';
import { link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Argv } from 'yargs';
import { SnapshotError } from '../../format/errors.js';
import { fingerprint, generateKeyPair, parsePrivateKey } from '../../report/identity/keys.js';
import { defineCommand } from '../command.js';
import { reportError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { readSmallFile } from '../trust-input.js';
import { escapeText } from '../render/escape.js';
import { outputPath } from '../parse.js';

interface KeygenArgs {
  out: string;
  json: boolean;
}

/** The public key's path beside a private key: `node.key` → `node.pub`, anything else gains `.pub`. */
export function publicKeyPath(privateKeyPath: string): string {
  return privateKeyPath.endsWith('.key') ? `${privateKeyPath.slice(0, -4)}.pub` : `${privateKeyPath}.pub`;
}

export const keygenCommand = defineCommand<KeygenArgs>({
  command: 'keygen',
  describe: 'Make a node\'s Ed25519 key pair: a private key (PKCS#8 PEM, mode 0600) and its public key (SPKI PEM) beside it',
  builder: (y: Argv) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'private key file to create (e.g. node.key); the public key goes beside it (node.pub). Never overwrites either' })
      .option('json', { type: 'boolean', default: false, describe: 'print {privateKey, publicKeyFile, publicKey, fingerprint} as JSON' })
      .epilogue(
        [
          'Put each node\'s .pub file, named <node-name>.pub, in one directory: that directory is',
          'a trust set for compare --trust and verify --trust. Keys made by',
          '`openssl genpkey -algorithm ed25519` work too (public key: `openssl pkey -pubout`).',
          '',
        ].join('\n'),
      ) as unknown as Argv<KeygenArgs>,
  async run(args, io) {
    try {
      const pub = publicKeyPath(outputPath(args.out, '--out'));
      const pair = generateKeyPair();
      await createExclusive(args.out, pair.privateKeyPem, 0o600);
      try {
        await createExclusive(pub, pair.publicKeyPem, 0o644);
      } catch (e) {
        await unlink(args.out).catch(() => undefined); // ours, made a moment ago: no half pair is left
        throw e;
      }
      const fp = fingerprint(pair.publicKey);
      io.stdout(
        args.json
          ? `${JSON.stringify({ privateKey: args.out, publicKeyFile: pub, publicKey: pair.publicKey, fingerprint: fp }, null, 2)}\n`
          : `wrote ${escapeText(args.out)} (private, mode 0600) and ${escapeText(pub)}\npublic key ${pair.publicKey}\nfingerprint ${fp}\n`,
      );
      return ExitCode.OK;
    } catch (e) {
      return reportError(e, io, args.json);
    }
  },
});

/**
 * Creates `path` with `text` only if it does not exist, atomically: a temporary file written,
 * fsynced and then hard-linked to the name (link fails if the name exists, so nothing is ever
 * replaced and no reader sees a partial key).
 */
async function createExclusive(path: string, text: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.keygen-${crypto().randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(text);
      await handle.chmod(mode); // the umask must not widen nor narrow a key's mode
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(tmp, path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST') throw new SnapshotError('INVALID_ARGUMENT', `${path} exists; keygen never overwrites a key (choose another --out, or remove it deliberately)`, { file: path });
    if (err.code === 'ENOENT') throw new SnapshotError('NOT_FOUND', `directory ${dirname(path)} does not exist`, { file: path });
    throw new SnapshotError('IO_ERROR', `cannot write ${path}: ${err.message}`, { file: path, cause: e });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Reads a signing key (`digest --sign-key`): an Ed25519 private key in PEM. */
export async function loadSigningKey(path: string): Promise<KeyObject> {
  return parsePrivateKey(await readSmallFile(path, 'BAD_KEY', 1024 * 1024), path);
}

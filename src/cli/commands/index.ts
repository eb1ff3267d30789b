import type { Command } from '../command.js';

/** A command's name and how to load its module: only the command being run is loaded. */
export interface CommandEntry {
  readonly name: string;
  load(): Promise<Command>;
}

/**
 * Every CLI command, in the order `--help` lists them. A new command is one module plus a line
 * here. Modules are imported on demand (dynamic import) so that `digest` never pays for the
 * module graphs of `restore`, `publish` or `keygen`: start-up time is mostly module loading.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'digest', load: async () => (await import('./digest.js')).digestCommand },
  { name: 'compare', load: async () => (await import('./compare.js')).compareCommand },
  { name: 'diff', load: async () => (await import('./diff.js')).diffCommand },
  { name: 'verify', load: async () => (await import('./verify.js')).verifyCommand },
  { name: 'inspect', load: async () => (await import('./inspect.js')).inspectCommand },
  { name: 'restore', load: async () => (await import('./restore.js')).restoreCommand },
  { name: 'backups', load: async () => (await import('./backups.js')).backupsCommand },
  { name: 'keygen', load: async () => (await import('./keygen.js')).keygenCommand },
  { name: 'publish', load: async () => (await import('./publish.js')).publishCommand },
  { name: 'certify', load: async () => (await import('./certify.js')).certifyCommand },
  { name: 'fetch', load: async () => (await import('./fetch.js')).fetchCommand },
  { name: 'prune', load: async () => (await import('./prune.js')).pruneCommand },
];

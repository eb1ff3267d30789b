import type { Command } from '../command.js';
import { backupsCommand } from './backups.js';
import { compareCommand } from './compare.js';
import { diffCommand } from './diff.js';
import { digestCommand } from './digest.js';
import { fetchCommand } from './fetch.js';
import { inspectCommand } from './inspect.js';
import { keygenCommand } from './keygen.js';
import { pruneCommand } from './prune.js';
import { publishCommand } from './publish.js';
import { restoreCommand } from './restore.js';
import { verifyCommand } from './verify.js';

/** Every CLI command, in the order `--help` lists them. A new command is one module plus a line here. */
export const COMMANDS: readonly Command[] = [digestCommand, compareCommand, diffCommand, verifyCommand, inspectCommand, restoreCommand, backupsCommand, keygenCommand, publishCommand, fetchCommand, pruneCommand];

/**
 * Identities, signed statements, trust sets and quorum certificates (spec/STATEMENT.md): pure
 * functions over bytes and texts, for `digest --sign-key`, `compare --trust`, `verify
 * --certificate`, and for nodes that sign reports in-process.
 */
export * from './statement.js';
export * from './keys.js';
export * from './signature.js';
export * from './trust-set.js';
export * from './quorum.js';
export * from './certificate.js';

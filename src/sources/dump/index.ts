export { DUMP_SUFFIX, isDumpDirectory, openDumpDirectory } from './dump-source.js';
export { parseHexLine } from './hex-line.js';

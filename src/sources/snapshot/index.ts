export { openSnapshotFiles } from './snapshot-source.js';

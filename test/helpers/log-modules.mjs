// Preloaded with `node --import` (NODE_OPTIONS) by test/cli/startup-modules.test.ts: registers a
// module loader hook that appends the URL of every module the process loads, static or dynamic
// imports alike, to the file named by LOG_MODULES_FILE, one per line.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  appendFileSync(file, url + '\\n');
  return next(url, context);
}`;
if (process.env.LOG_MODULES_FILE) {
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file: process.env.LOG_MODULES_FILE } });
}

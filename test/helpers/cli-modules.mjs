// bin/snapshot-verify without the bundle: the compiled ES modules of dist/, loaded one by one.
// Tests use it to see the module graph (startup-modules.test.ts) and to compare the two (launch.test.ts).
import { main } from '../../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));

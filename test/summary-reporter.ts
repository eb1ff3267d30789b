import type { Reporter, File, Task } from 'vitest';

/** Prints the plain closing line CI reads ("N passed, N failed, N skipped"), after vitest's own summary. */
export default class SummaryReporter implements Reporter {
  onFinished(files: File[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const visit = (t: Task): void => {
      if (t.type === 'test') {
        const state = t.result?.state;
        if (state === 'pass') counts.passed++;
        else if (state === 'fail') counts.failed++;
        else counts.skipped++;
      }
      if ('tasks' in t) for (const c of t.tasks) visit(c);
    };
    for (const f of files) visit(f);
    process.stdout.write(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

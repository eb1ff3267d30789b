import type { Argv } from 'yargs';
import { pruneRepository } from '../../repository/prune.js';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { repositoryCommandOptions, withRepository, type RepositoryCommandArgs } from '../repository-options.js';
import { escapeText } from '../render/escape.js';

interface PruneArgs extends RepositoryCommandArgs {
  'keep-epochs': number;
  yes: boolean;
}

export const pruneCommand = defineCommand<PruneArgs>({
  command: 'prune <url>',
  describe: 'Delete old epochs from a repository, keeping the K newest (a dry run unless --yes)',
  builder: (y: Argv) =>
    repositoryCommandOptions(y)
      .option('keep-epochs', { type: 'number', demandOption: true, describe: 'keep the K newest epochs that hold a report (K ≥ 2 recommended)' })
      .option('yes', { type: 'boolean', default: false, describe: 'delete; without it nothing is deleted and the plan is printed' })
      .epilogue('Of each older epoch the reports are deleted first, then its chunks and anything else under it, so no reader meets a\nreport whose chunks are gone. Kept epochs are never touched.\n') as unknown as Argv<PruneArgs>,
  run: (args, io) =>
    withRepository(args, io, () => undefined, async (store) => {
      const r = await pruneRepository(store, { keepEpochs: args['keep-epochs'], delete: args.yes });
      if (args.json) {
        io.stdout(`${JSON.stringify({ prune: r }, null, 2)}\n`);
      } else {
        const lines = [`kept epoch(s): ${r.kept.join(', ') || 'none'}`];
        for (const p of r.pruned) lines.push(`${r.dryRun ? 'would delete' : 'deleted'} epoch ${p.epoch}: ${p.reports} report(s)${p.certificates > 0 ? ` and ${p.certificates} certificate(s)` : ''}, then ${p.others} other object(s)`);
        if (r.pruned.length === 0) lines.push('nothing to delete');
        if (r.garbage.length > 0) lines.push(`not epochs, left alone: ${r.garbage.join(', ')}`);
        if (r.dryRun && r.pruned.length > 0) lines.push('dry run: nothing deleted; run again with --yes to delete');
        io.stdout(`${lines.map(escapeText).join('\n')}\n`); // object keys are the repository's: escaped
      }
      return ExitCode.OK;
    }),
});

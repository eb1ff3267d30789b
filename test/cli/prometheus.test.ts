import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, type CliResult } from '../helpers/cli.js';

/**
 * --prom-textfile end to end: what digest writes on success and on failure, what compare writes,
 * and docs/alerts.yml checked by promtool (Debian prometheus) against those very textfiles, so a
 * renamed metric or label breaks this test, not an operator's alerting.
 */

const DUMP = join(REPO, 'examples', 'dump', 'checkpoint_epoch_42');
const TABLES = 'per_object_blob_info,per_object_pooled_blob_info,storage_pool_info';
const ALERTS = join(REPO, 'docs', 'alerts.yml');

let dir: string;
let failed: CliResult;
let compared: CliResult;
const prom = (name: string): string => join(dir, `${name}.prom`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sv-prom-'));
  // n3 holds one changed value in storage_pool_info: a divergence compare must name.
  const n3 = join(dir, 'n3', 'checkpoint_epoch_42');
  cpSync(DUMP, n3, { recursive: true });
  const file = join(n3, 'storage_pool_info.hex');
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[3] = lines[3]!.replace(/ : 0x(..)/, (_, b: string) => ` : 0x${b === '00' ? '01' : '00'}`);
  writeFileSync(file, lines.join('\n'));
  for (const [node, src] of [['n1', DUMP], ['n2', DUMP], ['n3', n3]] as const) {
    const r = await runCli(['digest', src, '--tables', TABLES, '--json', '--node', node, '--prom-textfile', prom(node)]);
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(dir, `${node}.json`), r.stdout);
  }
  failed = await runCli(['digest', DUMP, '--tables', 'no_such_table', '--node', 'n4', '--prom-textfile', prom('n4')]);
  compared = await runCli(['compare', join(dir, 'n1.json'), join(dir, 'n2.json'), join(dir, 'n3.json'), '--prom-textfile', prom('compare')]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The samples of a textfile: `name{labels} value` lines (comments dropped). */
function samples(text: string): { series: string; value: string }[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const i = l.lastIndexOf(' ');
    return { series: l.slice(0, i), value: l.slice(i + 1) };
  });
}

describe('digest --prom-textfile', () => {
  it('a successful run: last_run_success 1, the digest info, timestamp and duration', () => {
    const text = readFileSync(prom('n1'), 'utf8');
    expect(text).toMatch(/^snapshot_verify_last_run_success\{node="n1"\} 1$/m);
    expect(text).toMatch(/^snapshot_verify_last_run_timestamp_seconds\{epoch="42",node="n1"\} \d{10}$/m);
    expect(text).toMatch(/^snapshot_verify_duration_seconds\{epoch="42",node="n1"\} \d+\.\d{3}$/m);
  });

  it('a failed run writes it too: success 0 with the error code, timestamp and duration (and the error goes to stderr)', async () => {
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/UNKNOWN_TABLE/);
    const text = readFileSync(prom('n4'), 'utf8');
    expect(text).toMatch(/^snapshot_verify_last_run_success\{node="n4",code="UNKNOWN_TABLE"\} 0$/m);
    const ts = Number(/^snapshot_verify_last_run_timestamp_seconds\{node="n4"\} (\d+)$/m.exec(text)?.[1]);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(120);
    expect(text).toMatch(/^snapshot_verify_duration_seconds\{node="n4"\} \d+\.\d{3}$/m);
  });

  it('a missing textfile directory never loses the report: stdout has it, stderr warns, exit 74', async () => {
    const r = await runCli(['digest', DUMP, '--tables', TABLES, '--json', '--prom-textfile', join(dir, 'no', 'such', 'dir', 'x.prom')]);
    expect(r.code).toBe(74);
    expect(JSON.parse(r.stdout).digest).toMatch(/^[0-9a-f]{16}$/);
    expect(r.stderr).toMatch(/^snapshot-verify: IO_ERROR in .*x\.prom: --prom-textfile not written/);
  });
});

describe('compare --prom-textfile', () => {
  it('writes the verdict, the exit code, node counts by state and the minority nodes', async () => {
    expect(compared.code).toBe(1);
    const n3 = JSON.parse(readFileSync(join(dir, 'n3.json'), 'utf8'));
    const text = readFileSync(prom('compare'), 'utf8');
    expect(text).toMatch(/^snapshot_verify_compare_verdict_info\{epoch="42",verdict="DIVERGENCE"\} 1$/m);
    expect(text).toMatch(/^snapshot_verify_compare_exit_code\{epoch="42"\} 1$/m);
    expect(text).toMatch(/^snapshot_verify_compare_nodes\{epoch="42",state="agree"\} 2$/m);
    expect(text).toMatch(/^snapshot_verify_compare_nodes\{epoch="42",state="diverge"\} 1$/m);
    expect(text).toContain(`snapshot_verify_compare_minority_info{epoch="42",node="n3",digest="${n3.digest}"} 1`);
  });
});

describe('docs/alerts.yml', () => {
  it('promtool check rules accepts it', () => {
    expect(execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: on the textfiles the CLI wrote, the failed run, the divergence and the minority node fire; a stopped job goes stale', () => {
    const series = ['n1', 'n2', 'n3', 'n4', 'compare'].flatMap((n) => samples(readFileSync(prom(n), 'utf8'))).map((s) => ({ series: s.series, values: `${s.value}+0x200` }));
    // A node whose last run is from Unix time 0: stale at any evaluation time past 2 hours.
    series.push({ series: 'snapshot_verify_last_run_timestamp_seconds{node="old"}', values: '0+0x200' });
    const n3 = JSON.parse(readFileSync(join(dir, 'n3.json'), 'utf8'));
    const test = {
      rule_files: [ALERTS],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: series,
          alert_rule_test: [
            { eval_time: '10m', alertname: 'SnapshotVerifyRunFailed', exp_alerts: [{ exp_labels: { severity: 'warning', node: 'n4', code: 'UNKNOWN_TABLE' }, exp_annotations: { summary: 'snapshot-verify digest failed on n4: UNKNOWN_TABLE' } }] },
            { eval_time: '10m', alertname: 'SnapshotDigestDivergence', exp_alerts: [{ exp_labels: { severity: 'critical', epoch: '42', cursor: '0' }, exp_annotations: { summary: 'nodes disagree at epoch 42: run snapshot-verify compare on the reports' } }] },
            { eval_time: '10m', alertname: 'SnapshotCompareDivergence', exp_alerts: [{ exp_labels: { severity: 'critical', epoch: '42', node: 'n3', digest: n3.digest }, exp_annotations: { summary: `node n3 diverges at epoch 42 (digest ${n3.digest})` } }] },
            { eval_time: '10m', alertname: 'SnapshotCompareNoMajority', exp_alerts: [] },
            { eval_time: '10m', alertname: 'SnapshotCompareIncomplete', exp_alerts: [] },
            { eval_time: '1h', alertname: 'SnapshotVerifyStale', exp_alerts: [] },
            { eval_time: '3h', alertname: 'SnapshotVerifyStale', exp_alerts: [{ exp_labels: { severity: 'warning', node: 'old' }, exp_annotations: { summary: 'no snapshot-verify digest run on old for 2 hours' } }] },
          ],
        },
      ],
    };
    // JSON is YAML: promtool reads the test file as it is.
    const file = join(dir, 'alerts.test.yml');
    writeFileSync(file, JSON.stringify(test, null, 2));
    const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });
});

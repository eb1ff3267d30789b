import type { DigestReport } from './schema.js';

/** Label values escaped as the Prometheus text format requires. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * Metrics for node_exporter's textfile collector. The digest is an info metric (value 1, the
 * digest and epoch as labels) so that dashboards can group nodes by digest per epoch.
 */
export function renderPrometheus(report: DigestReport): string {
  const base = `epoch="${label(report.epoch)}",node="${label(report.node.name)}"`;
  const lines: string[] = [
    '# HELP snapshot_verify_digest_info Snapshot digest at an epoch boundary (value is always 1).',
    '# TYPE snapshot_verify_digest_info gauge',
    `snapshot_verify_digest_info{${base},digest="${report.digest}",format_version="${report.formatVersion}",cursor="${label(report.cursor.index)}"} 1`,
    '# HELP snapshot_verify_entries Entries in the snapshot.',
    '# TYPE snapshot_verify_entries gauge',
    `snapshot_verify_entries{${base}} ${report.entries}`,
    '# HELP snapshot_verify_bytes Logical bytes (keys and values) in the snapshot.',
    '# TYPE snapshot_verify_bytes gauge',
    `snapshot_verify_bytes{${base}} ${report.bytes}`,
    '# HELP snapshot_verify_table_entries Entries per table.',
    '# TYPE snapshot_verify_table_entries gauge',
    ...report.tables.map((t) => `snapshot_verify_table_entries{${base},table="${label(t.name)}"} ${t.entries}`),
    '# HELP snapshot_verify_table_digest_info Table digest (value is always 1).',
    '# TYPE snapshot_verify_table_digest_info gauge',
    ...report.tables.map((t) => `snapshot_verify_table_digest_info{${base},table="${label(t.name)}",digest="${t.digest}"} 1`),
    ...lastRun(report.node.name, undefined),
    '# HELP snapshot_verify_duration_seconds Time the digest took.',
    '# TYPE snapshot_verify_duration_seconds gauge',
    `snapshot_verify_duration_seconds{${base}} ${(report.node.durationMs / 1000).toFixed(3)}`,
    '# HELP snapshot_verify_last_run_timestamp_seconds When the digest finished (Unix time).',
    '# TYPE snapshot_verify_last_run_timestamp_seconds gauge',
    `snapshot_verify_last_run_timestamp_seconds{${base}} ${Math.round(Date.parse(report.node.startedAt) / 1000 + report.node.durationMs / 1000)}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** snapshot_verify_last_run_success: 1, or 0 with the error code as a label, so one alert catches every failure. */
function lastRun(node: string, error: string | undefined): string[] {
  return [
    '# HELP snapshot_verify_last_run_success 1 when the last digest run succeeded, 0 when it failed (label code: the error code).',
    '# TYPE snapshot_verify_last_run_success gauge',
    error === undefined ? `snapshot_verify_last_run_success{node="${label(node)}"} 1` : `snapshot_verify_last_run_success{node="${label(node)}",code="${label(error)}"} 0`,
  ];
}

/** What a failed digest run knows: who, why (the SnapshotError code, or INTERNAL), when and how long. */
export interface FailedRun {
  readonly node: string;
  readonly error: string;
  readonly startedAt: Date;
  readonly durationMs: number;
}

/**
 * Metrics of a failed digest run: success 0 with the error code, the time and the duration, so a
 * failing node is seen by an alert instead of leaving the previous run's metrics in place.
 */
export function renderPrometheusFailure(run: FailedRun): string {
  const base = `node="${label(run.node)}"`;
  const lines = [
    ...lastRun(run.node, run.error),
    '# HELP snapshot_verify_duration_seconds Time the digest took.',
    '# TYPE snapshot_verify_duration_seconds gauge',
    `snapshot_verify_duration_seconds{${base}} ${(run.durationMs / 1000).toFixed(3)}`,
    '# HELP snapshot_verify_last_run_timestamp_seconds When the digest finished (Unix time).',
    '# TYPE snapshot_verify_last_run_timestamp_seconds gauge',
    `snapshot_verify_last_run_timestamp_seconds{${base}} ${Math.round((run.startedAt.getTime() + run.durationMs) / 1000)}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** What `compare --prom-textfile` publishes: the verdict of one comparison (report/compare.ts). */
export interface CompareRun {
  readonly verdict: string;
  readonly exitCode: number;
  /** The compared epoch; empty when there was none (no valid report, or the comparison failed). */
  readonly epoch: string;
  /** Nodes in the authoritative group (all compared nodes when they agree). */
  readonly agree: number;
  /** Compared nodes outside it (all of them when there is no majority). */
  readonly diverge: number;
  readonly incomparable: number;
  /** Reports that could not be used: corrupt, missing, unreadable, or from a newer snapshot-verify. */
  readonly bad: number;
  readonly minority: readonly { readonly node: string; readonly digest: string }[];
  readonly finishedAt: Date;
}

/**
 * Metrics of a `compare` run, so alerts need no hand-written printf: the verdict as an info
 * metric, the exit code, node counts by state and one series per minority node.
 */
export function renderComparePrometheus(run: CompareRun): string {
  const epoch = `epoch="${label(run.epoch)}"`;
  const lines = [
    '# HELP snapshot_verify_compare_verdict_info Verdict of the last compare run (value is always 1).',
    '# TYPE snapshot_verify_compare_verdict_info gauge',
    `snapshot_verify_compare_verdict_info{${epoch},verdict="${label(run.verdict)}"} 1`,
    '# HELP snapshot_verify_compare_exit_code Exit code of the last compare run (0 agree, 1 divergence, 2/3/74 incomplete).',
    '# TYPE snapshot_verify_compare_exit_code gauge',
    `snapshot_verify_compare_exit_code{${epoch}} ${run.exitCode}`,
    '# HELP snapshot_verify_compare_nodes Reports by state: agree (authoritative group), diverge, incomparable (other anchor), bad (not usable).',
    '# TYPE snapshot_verify_compare_nodes gauge',
    ...(['agree', 'diverge', 'incomparable', 'bad'] as const).map((s) => `snapshot_verify_compare_nodes{${epoch},state="${s}"} ${run[s]}`),
    '# HELP snapshot_verify_compare_minority_info A node outside the authoritative group (value is always 1).',
    '# TYPE snapshot_verify_compare_minority_info gauge',
    ...run.minority.map((m) => `snapshot_verify_compare_minority_info{${epoch},node="${label(m.node)}",digest="${label(m.digest)}"} 1`),
    '# HELP snapshot_verify_compare_last_run_timestamp_seconds When the last compare run finished (Unix time).',
    '# TYPE snapshot_verify_compare_last_run_timestamp_seconds gauge',
    `snapshot_verify_compare_last_run_timestamp_seconds ${Math.round(run.finishedAt.getTime() / 1000)}`,
  ];
  return `${lines.join('\n')}\n`;
}

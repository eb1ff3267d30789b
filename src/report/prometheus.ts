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
    '# HELP snapshot_verify_duration_seconds Time the digest took.',
    '# TYPE snapshot_verify_duration_seconds gauge',
    `snapshot_verify_duration_seconds{${base}} ${(report.node.durationMs / 1000).toFixed(3)}`,
    '# HELP snapshot_verify_last_run_timestamp_seconds When the digest finished (Unix time).',
    '# TYPE snapshot_verify_last_run_timestamp_seconds gauge',
    `snapshot_verify_last_run_timestamp_seconds{${base}} ${Math.round(Date.parse(report.node.startedAt) / 1000 + report.node.durationMs / 1000)}`,
  ];
  return `${lines.join('\n')}\n`;
}

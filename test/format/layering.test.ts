import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const FORMAT = join(import.meta.dirname, '..', '..', 'src', 'format');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

describe('layering: data flows format ← sources ← report ← cli', () => {
  it('nothing in src/format imports from sources, report, cli or anything above them', () => {
    const offending: string[] = [];
    for (const file of tsFiles(FORMAT)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.') && /\/(sources|report|cli|repository|restore|interop|presets)\//.test(`/${spec.replace(/^(\.\.\/)+/, '')}`)) offending.push(`${file}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});

/**
 * Which column family each restored table becomes. RocksDB always has the family "default"
 * (id 0): a table named "default" fills it, otherwise it stays empty. The other tables get
 * ids 1, 2, … in catalog order (ascending table id), each named as its table.
 */
import { SnapshotError } from '../format/errors.js';

/** RocksDB's kDefaultColumnFamilyName. */
export const DEFAULT_COLUMN_FAMILY = 'default';

/** A restored table and its column family. */
export interface FamilyPlan {
  /** The table's index in the snapshot catalog. */
  readonly tableIndex: number;
  readonly tableId: number;
  readonly name: string;
  readonly columnFamilyId: number;
}

/**
 * Plans the families of the selected tables (catalog order). Throws BAD_TABLE_NAME for a name
 * RocksDB's interfaces cannot carry: one containing NUL, which every C-string interface (the C
 * API, ldb's --column_family, the OPTIONS file reader's lines) would cut short, silently naming
 * another family. Every other name (any UTF-8, ':' '#' '\\' line breaks included) is stored
 * as is and escaped in OPTIONS as RocksDB escapes it.
 */
export function planColumnFamilies(tables: readonly { readonly index: number; readonly id: number; readonly name: string }[]): FamilyPlan[] {
  let next = 1;
  return tables.map((t) => {
    const nul = t.name.indexOf('\0');
    if (nul >= 0) {
      throw new SnapshotError('BAD_TABLE_NAME', `table ${t.id} ${JSON.stringify(t.name)} cannot be a RocksDB column family name: it contains NUL (at character ${nul}), which C-string interfaces cut short`);
    }
    return { tableIndex: t.index, tableId: t.id, name: t.name, columnFamilyId: t.name === DEFAULT_COLUMN_FAMILY ? 0 : next++ };
  });
}

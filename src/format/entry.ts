/** One key/value pair of a table: what the writer frames and the reader yields. */
export interface Entry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

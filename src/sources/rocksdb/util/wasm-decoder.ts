/**
 * The calling convention shared by the WebAssembly decompressors of this folder (snappy.wat,
 * lz4.wat): the output is written at byte 0 of the module's memory, the input is copied right
 * after it, and `decompress(ip, iend, outLen)` returns 0 or an error number.
 */
import { DecodeFailure } from './decode-failure.js';

export class WasmDecoder {
  readonly #memory: WebAssembly.Memory;
  readonly #decompress: (ip: number, iend: number, outLen: number) => number;
  #bytes: Uint8Array;

  /** `errors[n]` is the message of error number n (index 0 unused). */
  constructor(
    base64: string,
    private readonly errors: readonly string[],
    private readonly codec: string,
  ) {
    const wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')));
    this.#memory = wasm.exports['memory'] as WebAssembly.Memory;
    this.#decompress = wasm.exports['decompress'] as (ip: number, iend: number, outLen: number) => number;
    this.#bytes = new Uint8Array(this.#memory.buffer);
  }

  /** Decodes `body` into exactly `outLen` bytes, in a buffer from `alloc`; DecodeFailure if it cannot. */
  decode(body: Uint8Array, outLen: number, alloc: (n: number) => Uint8Array): Uint8Array {
    const need = outLen + body.length;
    if (need > this.#bytes.length) {
      this.#memory.grow(Math.ceil((need - this.#bytes.length) / 65536));
      this.#bytes = new Uint8Array(this.#memory.buffer);
    }
    this.#bytes.set(body, outLen);
    const rc = this.#decompress(outLen, need, outLen);
    if (rc !== 0) throw new DecodeFailure(this.errors[rc] ?? `${this.codec}: error ${rc}`);
    const out = alloc(outLen);
    out.set(this.#bytes.subarray(0, outLen));
    return out;
  }
}

/**
 * The calling convention shared by the WebAssembly decompressors of this folder (snappy.wat,
 * lz4.wat): the output is written at byte 0 of the module's memory, the input is copied after it
 * and SLACK bytes, and `decompress(ip, iend, outLen)` returns 0 or an error number. A decoder
 * may write up to SLACK bytes past the output's end and read up to SLACK bytes past the input's
 * end (wide copies, snappy.wat): the slack keeps both inside memory and off the input.
 */
const SLACK = 16;

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
    const ip = outLen + SLACK;
    const iend = ip + body.length;
    if (iend + SLACK > this.#bytes.length) {
      this.#memory.grow(Math.ceil((iend + SLACK - this.#bytes.length) / 65536));
      this.#bytes = new Uint8Array(this.#memory.buffer);
    }
    this.#bytes.set(body, ip);
    const rc = this.#decompress(ip, iend, outLen);
    if (rc !== 0) throw new DecodeFailure(this.errors[rc] ?? `${this.codec}: error ${rc}`);
    const out = alloc(outLen);
    out.set(this.#bytes.subarray(0, outLen));
    return out;
  }
}

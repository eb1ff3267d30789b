/** Why a compressed block could not be decoded; the caller adds file and offset. */
export class DecodeFailure extends Error {
  override readonly name = 'DecodeFailure';
}

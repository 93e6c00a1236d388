/**
 * The protocol's binary type is `Uint8Array<ArrayBuffer>`; Node Buffers are typed over
 * `ArrayBufferLike`. Views over a plain ArrayBuffer are passed as they are; anything else
 * (a SharedArrayBuffer view) is copied.
 */
export function wireBytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  if (data.buffer instanceof ArrayBuffer) return data as Uint8Array<ArrayBuffer>;
  return new Uint8Array(data);
}

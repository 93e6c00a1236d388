/**
 * Examples as JSON. Binary cannot be JSON (it travels as a Socket.IO attachment), so an
 * example shows it as a placeholder string naming its size; the placeholder still
 * satisfies the binary field's JSON Schema (`type: string, format: binary`).
 */
export function exampleJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return `<binary: ${value.byteLength} bytes>`;
  if (Array.isArray(value)) return value.map(exampleJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined).map(([key, member]) => [key, exampleJson(member)]));
  }
  return value;
}

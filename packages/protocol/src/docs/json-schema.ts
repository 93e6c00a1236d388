import { z } from 'zod';

/** A JSON Schema (draft 07) as plain data. */
export type JsonSchema = Record<string, unknown>;

/**
 * How binary travels: as a Socket.IO binary attachment, never base64. JSON Schema has no
 * type for it; `format: binary` is the convention OpenAPI and AsyncAPI tools understand.
 */
const BINARY_SCHEMA: JsonSchema = {
  type: 'string',
  format: 'binary',
  description: 'Binary data, sent as a Socket.IO binary attachment (a Buffer in Node, bytes in Python), never base64. Not empty.',
};

/**
 * The JSON Schema (draft 07, which AsyncAPI 3 schemas extend) of a zod schema of the
 * protocol. Input mode, in both directions: objects leave `additionalProperties` open, as
 * the peers do (zod drops unknown fields), so that an added optional field (no version
 * bump) does not break a strict validator on the other side. The one schema JSON cannot
 * express is binary.
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'custom') return { ...BINARY_SCHEMA };
      return 'throw';
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

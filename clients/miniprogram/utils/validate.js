// Client-side validation generated from the API's own JSON Schemas
// (`/api/v1/schemas/<name>.json`, the files in `schemas/`): a page checks
// exactly what the server will, before sending. Only the keywords the
// request schemas use are understood; `assertSupported` throws on any other,
// so a schema change this file does not cover is noticed (the page then
// leaves checking to the server) instead of being silently ignored. No I/O
// here: the mini-program keeps an identical copy, and Node tests it.

const ANNOTATIONS = new Set(["$schema", "$id", "title", "description", "default", "format"]);
const ASSERTIONS = new Set([
  "type", "properties", "required", "additionalProperties", "enum", "minLength",
  "maxLength", "pattern", "items", "maxItems", "minimum", "maximum", "minProperties",
]);

/**
 * Throws if `schema`, anywhere inside, uses a keyword that [`validate`]
 * does not understand; call it once when a schema is loaded.
 */
export function assertSupported(schema, pointer = "") {
  for (const keyword of Object.keys(schema)) {
    if (!ANNOTATIONS.has(keyword) && !ASSERTIONS.has(keyword)) {
      throw new Error(`unsupported schema keyword ${keyword} at ${pointer || "/"}`);
    }
  }
  if (schema.type) hasType(null, schema.type);
  for (const [name, item] of Object.entries(schema.properties ?? {})) {
    assertSupported(item, `${pointer}/properties/${name}`);
  }
  if (schema.items) assertSupported(schema.items, `${pointer}/items`);
}

/**
 * The errors of `value` against `schema`: `[{ pointer, keyword, limit }]`,
 * pointers as the server names them (`/reporter/phone`).
 */
export function validate(schema, value, pointer = "", errors = []) {
  const fail = (keyword, limit) => errors.push({ pointer, keyword, limit });
  if (schema.enum && !schema.enum.includes(value)) return fail("enum"), errors;
  if (schema.type && !hasType(value, schema.type)) return fail("type"), errors;
  if (typeof value === "string") {
    // JSON Schema counts characters (code points), as the server does.
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) fail("minLength", schema.minLength);
    if (schema.maxLength !== undefined && length > schema.maxLength) fail("maxLength", schema.maxLength);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) fail("pattern");
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) fail("minimum", schema.minimum);
    if (schema.maximum !== undefined && value > schema.maximum) fail("maximum", schema.maximum);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) fail("maxItems", schema.maxItems);
    if (schema.items) value.forEach((item, i) => validate(schema.items, item, `${pointer}/${i}`, errors));
  }
  if (isObject(value)) {
    const properties = schema.properties ?? {};
    if (schema.minProperties !== undefined && Object.keys(value).length < schema.minProperties) {
      fail("minProperties", schema.minProperties);
    }
    for (const name of schema.required ?? []) {
      if (!(name in value)) errors.push({ pointer: `${pointer}/${name}`, keyword: "required" });
    }
    for (const [name, item] of Object.entries(value)) {
      if (name in properties) validate(properties[name], item, `${pointer}/${name}`, errors);
      else if (schema.additionalProperties === false) {
        errors.push({ pointer: `${pointer}/${name}`, keyword: "additionalProperties" });
      }
    }
  }
  return errors;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function hasType(value, type) {
  switch (type) {
    case "object": return isObject(value);
    case "array": return Array.isArray(value);
    case "string": return typeof value === "string";
    case "integer": return Number.isInteger(value);
    case "number": return typeof value === "number";
    case "boolean": return typeof value === "boolean";
    default: throw new Error(`unsupported schema type ${type}`);
  }
}

/**
 * Whether an 18-character resident ID number's check character is right
 * (GB 11643, ISO 7064 MOD 11-2): the one rule of report.json that JSON
 * Schema cannot state.
 */
export function idCheckCharacterValid(id) {
  const digits = id.trim().toUpperCase();
  if (!/^[0-9]{17}[0-9X]$/.test(digits)) return false;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(digits[i]), 0);
  return "10X98765432"[sum % 11] === digits[17];
}

// The public API as the pages call it: same origin, JSON in and out, errors
// as the server's `{ errors: [{ pointer, message }] }`.

/** An answer: its status and JSON body (or null). */
export async function call(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let json = null;
  try {
    json = await response.json();
  } catch {
    // No JSON body: the status says enough.
  }
  return { status: response.status, body: json };
}

/**
 * A fresh Idempotency-Key. `crypto.randomUUID` needs a secure context, which
 * a commission's intranet address may not be; random bytes work everywhere.
 */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A request schema of `schemas/`, by file name (`report.json`). */
export async function loadSchema(name) {
  const answer = await call("GET", `/api/v1/schemas/${name}`);
  if (answer.status !== 200) throw new Error(`schema ${name}: ${answer.status}`);
  return answer.body;
}

// The mini-program's request layer: the same public endpoints the web pages
// call, over `wx.request` (given in, so Node tests it with a stand-in). An
// answer is `{ status, body }` whatever its status; only a failed network
// rejects. Every write carries an Idempotency-Key, reused by its retry, so a
// flaky connection never files a report twice.

/** Hex of `bytes`. */
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A client of the API at `baseUrl`. `request` is `wx.request`'s shape;
 * `randomBytes(n)` resolves to `n` random bytes (`wx.getRandomValues`).
 */
export function createClient({ baseUrl, request, randomBytes }) {
  function call(method, path, { body, headers = {} } = {}) {
    const header = { accept: "application/json", ...headers };
    if (body !== undefined) header["content-type"] = "application/json";
    return new Promise((resolve, reject) => {
      request({
        url: `${baseUrl}${path}`,
        method,
        header,
        data: body === undefined ? undefined : JSON.stringify(body),
        dataType: "json",
        timeout: 15000,
        success: (res) =>
          resolve({
            status: res.statusCode,
            body: res.data !== null && typeof res.data === "object" ? res.data : null,
          }),
        fail: (err) => reject(new Error(err?.errMsg ?? "request failed")),
      });
    });
  }

  const receipt = (code) => encodeURIComponent(code.trim().toUpperCase());

  return {
    call,
    /** A fresh Idempotency-Key: 16 random bytes in hex. */
    async newIdempotencyKey() {
      return hex(await randomBytes(16));
    },
    /** A request schema of `schemas/` by file name, or null when unavailable. */
    async schema(name) {
      const answer = await call("GET", `/api/v1/schemas/${name}`);
      return answer.status === 200 ? answer.body : null;
    },
    /** `POST /api/v1/reports`. */
    submitReport(report, idempotencyKey) {
      return call("POST", "/api/v1/reports", {
        body: report,
        headers: { "idempotency-key": idempotencyKey },
      });
    },
    /** `GET /api/v1/reports/{code}` with the secret shown at submission. */
    followUp(code, secret) {
      return call("GET", `/api/v1/reports/${receipt(code)}`, {
        headers: { "x-receipt-secret": secret.trim() },
      });
    },
    /** `POST /api/v1/reports/{code}/feedback`: a rating or an objection. */
    giveFeedback(code, secret, feedback, idempotencyKey) {
      return call("POST", `/api/v1/reports/${receipt(code)}/feedback`, {
        body: feedback,
        headers: { "x-receipt-secret": secret.trim(), "idempotency-key": idempotencyKey },
      });
    },
  };
}

// The request layer against a stand-in for `wx.request`: what it sends, and
// what it makes of each kind of answer.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient } from "../utils/request.js";

/** A client whose `wx.request` records each call and answers with `reply(options)`. */
function client(reply) {
  const sent = [];
  const api = createClient({
    baseUrl: "https://jiandu.test",
    request: (options) => {
      sent.push(options);
      const outcome = reply(options);
      setTimeout(() => (outcome.fail ? options.fail(outcome.fail) : options.success(outcome)), 0);
    },
    randomBytes: async (n) => Uint8Array.from({ length: n }, (_, i) => i * 17),
  });
  return { api, sent };
}

test("a report is posted as JSON with its idempotency key", async () => {
  const { api, sent } = client(() => ({ statusCode: 201, data: { receipt_code: "JDABCDEFGHJKMN" } }));
  const report = { category: "integrity", division_code: "370402", subject: { name: "张某" }, content: "一二三四五六七八九十" };
  const answer = await api.submitReport(report, "k1");
  assert.deepEqual(answer, { status: 201, body: { receipt_code: "JDABCDEFGHJKMN" } });
  assert.equal(sent.length, 1);
  assert.equal(sent[0].url, "https://jiandu.test/api/v1/reports");
  assert.equal(sent[0].method, "POST");
  assert.equal(sent[0].header["content-type"], "application/json");
  assert.equal(sent[0].header["idempotency-key"], "k1");
  assert.deepEqual(JSON.parse(sent[0].data), report);
});

test("a follow-up names the receipt in upper case and sends the secret as a header only", async () => {
  const { api, sent } = client(() => ({ statusCode: 200, data: { status: "received" } }));
  await api.followUp(" jdabc/def ", " SECRET ");
  assert.equal(sent[0].url, "https://jiandu.test/api/v1/reports/JDABC%2FDEF");
  assert.equal(sent[0].method, "GET");
  assert.equal(sent[0].header["x-receipt-secret"], "SECRET");
  assert.equal(sent[0].data, undefined);
  assert.ok(!sent[0].url.includes("SECRET"));
});

test("feedback carries the secret and a key", async () => {
  const { api, sent } = client(() => ({ statusCode: 409, data: { errors: [{ pointer: "", message: "not yet" }] } }));
  const answer = await api.giveFeedback("jd1", "s", { rating: 5 }, "k2");
  assert.equal(answer.status, 409);
  assert.equal(answer.body.errors[0].message, "not yet");
  assert.equal(sent[0].url, "https://jiandu.test/api/v1/reports/JD1/feedback");
  assert.deepEqual(JSON.parse(sent[0].data), { rating: 5 });
  assert.equal(sent[0].header["idempotency-key"], "k2");
});

test("an answer that is not JSON has a null body; a failed network rejects", async () => {
  const { api } = client(() => ({ statusCode: 502, data: "<html>bad gateway</html>" }));
  assert.deepEqual(await api.call("GET", "/x"), { status: 502, body: null });
  const down = client(() => ({ fail: { errMsg: "request:fail timeout" } }));
  await assert.rejects(down.api.call("GET", "/x"), /timeout/);
});

test("a schema that cannot be fetched is null, so the server checks alone", async () => {
  const { api, sent } = client(() => ({ statusCode: 404, data: { errors: [] } }));
  assert.equal(await api.schema("report.json"), null);
  assert.equal(sent[0].url, "https://jiandu.test/api/v1/schemas/report.json");
});

test("idempotency keys are 16 random bytes in hex", async () => {
  const { api } = client(() => ({ statusCode: 200, data: {} }));
  const key = await api.newIdempotencyKey();
  assert.match(key, /^[0-9a-f]{32}$/);
  assert.equal(key.slice(0, 6), "001122");
});

// The shared validation against the API's own schemas (read from schemas/),
// and the form-to-body rules, as both the web page and the mini-program use them.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { assertSupported, idCheckCharacterValid, validate } from "../utils/validate.js";
import { reportErrors, reportFromForm } from "../utils/report-form.js";
import { errorText } from "../utils/texts.js";

const schema = (name) => JSON.parse(readFileSync(new URL(`../../../schemas/${name}`, import.meta.url)));
const report = schema("report.json");

const VALID = {
  category: "integrity",
  division_code: "370402001001",
  subject: { name: "张某", unit: "某镇政府" },
  content: "收受承包方现金两万元，村民知情。",
};

test("every keyword of the request schemas is understood", () => {
  assertSupported(report);
  assertSupported(schema("feedback.json"));
  assert.throws(() => assertSupported({ properties: { a: { oneOf: [] } } }), /oneOf at \/properties\/a/);
});

test("valid anonymous and real-name reports have no errors", () => {
  assert.deepEqual(validate(report, VALID), []);
  const named = { ...VALID, reporter: { name: "李四", phone: "0632-1234567", id_number: "11010519491231002X" } };
  assert.deepEqual(reportErrors(report, named), []);
});

test("each broken field is named by its JSON pointer, as the server names it", () => {
  const broken = {
    category: "gossip",
    division_code: "0370402",
    subject: { name: "" },
    content: "太短",
    reporter: { name: "李四", phone: "12345", id_number: "110105194912310021" },
    extra: true,
  };
  const found = reportErrors(report, broken).map((e) => `${e.pointer} ${e.keyword}`);
  assert.deepEqual(found.sort(), [
    "/category enum",
    "/content minLength",
    "/division_code pattern",
    "/extra additionalProperties",
    "/reporter/id_number id_check",
    "/reporter/phone pattern",
    "/subject/name minLength",
  ]);
  // The check character alone.
  const wrongCheck = { ...VALID, reporter: { name: "李四", phone: "13812345678", id_number: "110105194912310021" } };
  assert.deepEqual(reportErrors(report, wrongCheck), [{ pointer: "/reporter/id_number", keyword: "id_check" }]);
});

test("lengths count characters, as JSON Schema does, not UTF-16 units", () => {
  const tenEmoji = "😀".repeat(10);
  assert.deepEqual(validate(report, { ...VALID, content: tenEmoji }), []);
  assert.equal(validate(report, { ...VALID, content: "😀".repeat(9) })[0].keyword, "minLength");
});

test("ID check characters follow GB 11643", () => {
  assert.ok(idCheckCharacterValid("11010519491231002X"));
  assert.ok(idCheckCharacterValid("11010519491231002x"));
  assert.ok(!idCheckCharacterValid("110105194912310021"));
  assert.ok(!idCheckCharacterValid("1101051949123100"));
});

test("a form becomes the body the schema wants", () => {
  const body = reportFromForm({
    kind: "anonymous",
    category: "mass",
    division_code: " 370402 ",
    subject_name: " 张某 ",
    subject_unit: "  ",
    content: " 收受承包方现金两万元。 ",
    reporter_name: "ignored when anonymous",
    concerns_commission_head: ["yes"],
  });
  assert.deepEqual(body, {
    category: "mass",
    division_code: "370402",
    subject: { name: "张某" },
    content: "收受承包方现金两万元。",
    concerns_commission_head: true,
  });
  const named = reportFromForm({ kind: "real_name", reporter_name: "李四", reporter_phone: "138", concerns_commission_head: [] });
  assert.deepEqual(named.reporter, { name: "李四", phone: "138" });
  assert.equal(named.concerns_commission_head, undefined);
  assert.equal(named.category, undefined);
});

test("feedback needs at least one of its fields", () => {
  const feedback = schema("feedback.json");
  assert.deepEqual(validate(feedback, {}).map((e) => e.keyword), ["minProperties"]);
  assert.deepEqual(validate(feedback, { rating: 6 }).map((e) => e.pointer), ["/rating"]);
  assert.deepEqual(validate(feedback, { rating: 5 }), []);
});

test("error messages are specific where a field has its own", () => {
  assert.equal(errorText("zh", { pointer: "/reporter/phone", keyword: "pattern" }), "请输入11位手机号或带区号的固定电话");
  assert.equal(errorText("en", { pointer: "/content", keyword: "minLength", limit: 10 }), "At least 10 characters");
});

// Every name the API can answer with has words on the pages: the report
// statuses and categories in the shared texts, and the board's steps,
// outcomes, roles, matters and colours (clients/web/js/board-texts.js),
// checked against the enums of domain/ where they are defined.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { TEXTS } from "../utils/texts.js";

const read = (path) => readFileSync(new URL(path, import.meta.url), "utf8");
const board = read("../../web/js/board-texts.js");

/** The wire names of `enumName` in a domain source file (`Variant = "name",`). */
function wireNames(file, enumName) {
  const source = read(`../../../domain/src/${file}`);
  const start = source.indexOf(`pub enum ${enumName} {`);
  assert.ok(start >= 0, `${enumName} in ${file}`);
  const body = source.slice(start, source.indexOf("\n    }\n", start));
  const names = [...body.matchAll(/= "(\w+)",/g)].map((m) => m[1]);
  assert.ok(names.length > 1, `${enumName}: ${names}`);
  return names;
}

test("every report status and category has a text", () => {
  const report = JSON.parse(read("../../../schemas/report.json"));
  for (const value of report.properties.category.enum) assert.ok(TEXTS.zh[`category.${value}`], value);
  for (const status of wireNames("report.rs", "ReportStatus")) assert.ok(TEXTS.zh[`status.${status}`], status);
});

test("every step, outcome, role, matter and colour has words on the board, in both languages", () => {
  const expected = [
    ...wireNames("step.rs", "StepName").map((n) => `step.${n}`),
    ...wireNames("step.rs", "Outcome").map((n) => `outcome.${n}`),
    ...wireNames("org.rs", "Role").map((n) => `role.${n}`),
    ...wireNames("step.rs", "SubjectKind").map((n) => `kind.${n}`),
    ...wireNames("escalation.rs", "Colour").map((n) => `colour.${n}`),
  ];
  for (const key of expected) {
    const times = board.split(`"${key}":`).length - 1;
    assert.equal(times, 2, `${key} should have a Chinese and an English text in board-texts.js`);
  }
});

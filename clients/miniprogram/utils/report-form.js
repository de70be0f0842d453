// The report a filled-in form describes, as `schemas/report.json` wants it
// (strings trimmed, optional fields left out when empty, the reporter present
// only for a real-name report), and what can be checked before sending.
// Shared by the web page and the mini-program, which keeps an identical copy
// (a mini-program reaches no file outside its folder; a test keeps the two
// the same), so both send the same body for the same answers.

import { idCheckCharacterValid, validate } from "./validate.js";

/**
 * `values` holds the form's fields by name (`category`, `division_code`,
 * `subject_name`, `subject_unit`, `subject_position`, `content`,
 * `concerns_commission_head`, `kind` = `anonymous` | `real_name`,
 * `reporter_name`, `reporter_phone`, `reporter_id_number`).
 */
export function reportFromForm(values) {
  const text = (name) => {
    const value = typeof values[name] === "string" ? values[name].trim() : "";
    return value === "" ? undefined : value;
  };
  const report = {
    division_code: text("division_code") ?? "",
    subject: { name: text("subject_name") ?? "" },
    content: text("content") ?? "",
  };
  const category = text("category");
  if (category) report.category = category;
  const unit = text("subject_unit");
  const position = text("subject_position");
  if (unit) report.subject.unit = unit;
  if (position) report.subject.position = position;
  const head = values.concerns_commission_head;
  if (head === true || head === "on" || (Array.isArray(head) && head.length > 0)) {
    report.concerns_commission_head = true;
  }
  if (values.kind === "real_name") {
    report.reporter = {
      name: text("reporter_name") ?? "",
      phone: text("reporter_phone") ?? "",
    };
    const id = text("reporter_id_number");
    if (id) report.reporter.id_number = id;
  }
  return report;
}

/**
 * The errors the page can find before sending, `{ pointer, keyword, limit }`
 * as `validate` gives them, plus the ID number's check character (keyword
 * `id_check`), which JSON Schema cannot state.
 */
export function reportErrors(schema, report) {
  const errors = validate(schema, report);
  const id = report.reporter?.id_number;
  if (id && !errors.some((e) => e.pointer === "/reporter/id_number") && !idCheckCharacterValid(id)) {
    errors.push({ pointer: "/reporter/id_number", keyword: "id_check" });
  }
  return errors;
}

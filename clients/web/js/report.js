// The public's report page: a real-name or anonymous report, checked against
// `schemas/report.json` before it is sent, and its receipt shown once.

import { apply, message, t } from "./i18n.js";
import { assertSupported } from "./validate.js";
import { reportErrors, reportFromForm } from "./report-form.js";
import { call, loadSchema, newIdempotencyKey } from "./api.js";
import { showErrors } from "./form.js";

const form = document.getElementById("report");
const reporter = document.getElementById("reporter");
// The request schema: its enums fill the choices; it checks the form when
// every keyword in it is one `validate` understands.
let schema = null;
let checkable = false;
// A retry of the same body reuses its key, so it can never file twice.
let pending = { body: null, key: null };

function realName() {
  return form.elements.kind.value === "real_name";
}

function fillCategories() {
  const select = form.elements.category;
  const chosen = select.value;
  for (const option of [...select.options].slice(1)) option.remove();
  for (const value of schema?.properties.category.enum ?? []) {
    select.add(new Option(t(`category.${value}`), value));
  }
  select.value = chosen;
}

function clientErrors(report) {
  if (!checkable) return [];
  return reportErrors(schema, report).map((e) => ({ pointer: e.pointer, text: message(e) }));
}

function showReceipt(answer) {
  form.reset();
  form.hidden = true;
  document.getElementById("receipt-code").textContent = answer.receipt_code;
  document.getElementById("receipt-secret").textContent = answer.secret ?? "";
  if (answer.acceptance_due) {
    document.getElementById("receipt-due-label").hidden = false;
    document.getElementById("receipt-due").textContent =
      `${answer.acceptance_due.date}（${answer.acceptance_due.article}）`;
  }
  // The code may travel in the link; the secret never does.
  document.getElementById("receipt-done").href =
    `follow.html#code=${encodeURIComponent(answer.receipt_code)}`;
  const receipt = document.getElementById("receipt");
  receipt.hidden = false;
  receipt.querySelector("h2").focus();
}

async function submit(event) {
  event.preventDefault();
  const report = reportFromForm(Object.fromEntries(new FormData(form)));
  // Opened from a disclosed item (disclosure.html): a complaint against it.
  const item = new URLSearchParams(location.search).get("item");
  if (item) report.disclosure_item = item;
  const errors = clientErrors(report);
  showErrors(form, errors);
  if (errors.length) return;
  const serialized = JSON.stringify(report);
  if (pending.body !== serialized) pending = { body: serialized, key: newIdempotencyKey() };
  const button = document.getElementById("submit");
  button.disabled = true;
  button.textContent = t("report.sending");
  try {
    const answer = await call("POST", "/api/v1/reports", {
      body: report,
      headers: { "idempotency-key": pending.key },
    });
    if (answer.status === 201) {
      pending = { body: null, key: null };
      showReceipt(answer.body);
    } else {
      const server = answer.body?.errors ?? [];
      showErrors(form, [
        { pointer: "", text: t("report.failed") },
        ...server.map((e) => ({ pointer: e.pointer, text: e.message })),
      ]);
    }
  } catch {
    showErrors(form, [{ pointer: "", text: t("report.offline") }]);
  } finally {
    button.disabled = false;
    button.textContent = t("report.submit");
  }
}

async function start() {
  apply();
  for (const radio of form.elements.kind) {
    radio.addEventListener("change", () => {
      reporter.hidden = !realName();
    });
  }
  document.getElementById("receipt").querySelector("h2").tabIndex = -1;
  document.addEventListener("langchange", fillCategories);
  form.addEventListener("submit", submit);
  const division = new URLSearchParams(location.search).get("division");
  if (division) form.elements.division_code.value = division;
  try {
    schema = await loadSchema("report.json");
    assertSupported(schema);
    checkable = true;
  } catch (e) {
    console.warn("checking is left to the server:", e);
  }
  fillCategories();
  document.body.dataset.ready = "true";
}

start();

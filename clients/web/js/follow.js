// A reporter follows a report with its receipt code and secret, and rates the
// answer or objects to it (检控 Art. 27). The secret stays in this page's
// memory: never in the address, never in the browser's storage.

import { apply, message, t } from "./i18n.js";
import { assertSupported, validate } from "./validate.js";
import { call, loadSchema, newIdempotencyKey } from "./api.js";
import { showErrors, text } from "./form.js";

const lookup = document.getElementById("lookup");
const feedback = document.getElementById("feedback");
let credentials = null;
let feedbackSchema = null;
let shown = null;

function render(report) {
  shown = report;
  document.getElementById("report-code").textContent = report.receipt_code;
  document.getElementById("report-status").textContent = t(`status.${report.status}`);
  document.getElementById("report-received").textContent = localTime(report.received_at);
  const due = report.acceptance_due;
  document.getElementById("report-due-label").hidden = !due;
  document.getElementById("report-due").textContent = due
    ? `${due.date}（${due.article}）${due.estimated ? t("follow.estimated") : ""}`
    : "";
  const list = document.getElementById("timeline");
  list.replaceChildren(
    ...report.timeline.map((entry) => {
      const item = document.createElement("li");
      const when = document.createElement("time");
      when.dateTime = entry.at;
      when.textContent = localTime(entry.at);
      item.append(when, ` ${t(`status.${entry.event}`)}`);
      if (entry.note) item.append(` — ${entry.note}`);
      return item;
    }),
  );
  const section = document.getElementById("report");
  section.hidden = false;
}

function localTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(document.documentElement.lang);
}

async function find(event) {
  event?.preventDefault();
  const code = text(lookup, "code")?.toUpperCase();
  const secret = text(lookup, "secret");
  const missing = [];
  if (!code) missing.push({ pointer: "/code", text: t("error.required") });
  if (!secret) missing.push({ pointer: "/secret", text: t("error.required") });
  showErrors(lookup, missing);
  if (missing.length) return;
  let answer;
  try {
    answer = await call("GET", `/api/v1/reports/${encodeURIComponent(code)}`, {
      headers: { "x-receipt-secret": secret },
    });
  } catch {
    showErrors(lookup, [{ pointer: "", text: t("report.offline") }]);
    return;
  }
  if (answer.status === 200) {
    credentials = { code, secret };
    lookup.elements.secret.value = "";
    render(answer.body);
    document.getElementById("report-heading").focus();
  } else if (answer.status === 429) {
    showErrors(lookup, [{ pointer: "", text: t("follow.throttled") }]);
  } else {
    showErrors(lookup, [{ pointer: "", text: t("follow.not_found") }]);
  }
}

async function give(event) {
  event.preventDefault();
  const body = {};
  const rating = feedback.elements.rating.value;
  if (rating) body.rating = Number(rating);
  const objection = text(feedback, "objection");
  if (objection) body.objection = objection;
  if (feedback.elements.new_evidence.checked) body.new_evidence = true;
  const errors = feedbackSchema
    ? validate(feedbackSchema, body).map((e) => ({ pointer: e.pointer, text: message(e) }))
    : [];
  showErrors(feedback, errors);
  if (errors.length) return;
  const answer = await call("POST", `/api/v1/reports/${encodeURIComponent(credentials.code)}/feedback`, {
    body,
    headers: { "x-receipt-secret": credentials.secret, "idempotency-key": newIdempotencyKey() },
  });
  if (answer.status >= 200 && answer.status < 300) {
    document.getElementById("feedback-sent").hidden = false;
  } else {
    showErrors(feedback, (answer.body?.errors ?? []).map((e) => ({ pointer: e.pointer, text: e.message })));
  }
}

async function start() {
  apply();
  document.addEventListener("langchange", () => shown && render(shown));
  lookup.addEventListener("submit", find);
  feedback.addEventListener("submit", give);
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("code");
  if (fromLink) lookup.elements.code.value = fromLink;
  try {
    feedbackSchema = await loadSchema("feedback.json");
    assertSupported(feedbackSchema);
  } catch (e) {
    console.warn("checking is left to the server:", e);
    feedbackSchema = null;
  }
  document.body.dataset.ready = "true";
}

start();

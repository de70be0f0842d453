// The board for administrators and department staff: sign in with a token,
// watch overdue work on the four-colour scale with its filters, open a
// task's timeline, complete the steps of one's own inbox, see the period's
// figures and export ledgers. Everything goes through the staff API with the
// bearer token; the token lives in this tab only (sessionStorage).

import "./board-texts.js";
import { apply, t } from "./i18n.js";
import { call, newIdempotencyKey } from "./api.js";
import { showErrors } from "./form.js";

const TOKEN = "jiandu.token";
const SECTIONS = ["signin", "overdue", "inbox", "task", "campaign", "stats", "exports"];
const ROLES = ["petitions", "case_management", "supervision", "investigation", "review", "office", "head", "party_head", "staff", "assets_office"];
const KINDS = ["report", "clue", "detention", "problem", "campaign_participant", "suspicion", "risk_warning"];
const COLOURS = ["on_time", "due_soon", "overdue", "elevated"];

let token = sessionStorage.getItem(TOKEN);
let orgs = new Map();

const $ = (id) => document.getElementById(id);

/** The claims a JWT carries (for display; the server verifies it). */
function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** A staff call with the token; writes carry an Idempotency-Key. */
function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (method !== "GET") headers["idempotency-key"] = newIdempotencyKey();
  return call(method, path, { body, headers });
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(document.documentElement.lang);
}

function orgName(id) {
  return orgs.get(id)?.name ?? id;
}

function fail(message) {
  const box = $("board-error");
  box.textContent = message;
  box.hidden = !message;
}

function show(section) {
  for (const id of SECTIONS) $(id).hidden = id !== section;
  $("board-nav").hidden = section === "signin";
  $("signout").hidden = section === "signin";
  for (const link of document.querySelectorAll("#board-nav a")) {
    if (link.getAttribute("href") === `#${section}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function fillSelect(select, values, label) {
  const chosen = select.value;
  select.replaceChildren(new Option(t("board.filter.any"), ""), ...values.map((v) => new Option(label(v), v)));
  select.value = chosen;
}

// ——— Signing in ———

async function signIn(candidate, form) {
  token = candidate.trim();
  const answer = await api("GET", "/api/v1/orgs");
  if (answer.status !== 200) {
    token = null;
    showErrors(form, [{ pointer: "", text: t("board.signin.failed") }]);
    return;
  }
  sessionStorage.setItem(TOKEN, token);
  orgs = new Map(answer.body.orgs.map((o) => [o.id, o]));
  location.hash = "#overdue";
  await route();
}

async function offerDemoPeople() {
  const answer = await call("GET", "/dev/sign-in").catch(() => null);
  if (answer?.status !== 200) return;
  const select = $("person");
  const byOrg = new Map();
  for (const person of answer.body.people) {
    if (!byOrg.has(person.org_name)) byOrg.set(person.org_name, []);
    byOrg.get(person.org_name).push(person);
  }
  select.replaceChildren(
    ...[...byOrg].map(([name, people]) => {
      const group = el("optgroup", { label: name });
      group.append(...people.map((p) => new Option(`${p.name} (${p.id})`, p.id)));
      return group;
    }),
  );
  $("dev-signin").hidden = false;
}

async function devSignIn(event) {
  event.preventDefault();
  const answer = await call("POST", "/dev/sign-in", { body: { person: $("person").value } });
  if (answer.status === 200) await signIn(answer.body.token, $("token-signin"));
  else showErrors($("token-signin"), [{ pointer: "", text: t("board.signin.failed") }]);
}

// ——— Tasks on the four-colour scale ———

function card(task) {
  const colour = task.colour ?? "on_time";
  const id = task.task_id ?? task.id;
  const assignee = task.assignee ?? {};
  const late = task.days_late !== undefined ? ` · ${t("board.days_late", { n: task.days_late })}` : "";
  return el(
    "li",
    { class: `card colour-${colour}`, "data-task": id, "data-subject": task.subject?.id, "data-colour": colour },
    el("span", { class: `chip colour-${colour}` }, t(`colour.${colour}`)),
    " ",
    el("strong", {}, t(`step.${task.step}`)),
    el("div", { class: "meta" }, `${t(`kind.${task.subject?.kind}`)} · ${task.duty}`),
    el("div", {}, `${t("board.assignee")}: ${assignee.org_name ?? orgName(assignee.org)} · ${t(`role.${assignee.role}`)}`),
    el("div", {}, `${t("board.due")}: ${when(task.due_at)}${late}`),
    el("div", { class: "meta" }, `${t("board.article")}: ${task.article}`),
    el("a", { href: `#task/${encodeURIComponent(id)}`, class: "timeline-link" }, t("board.timeline")),
  );
}

function list(target, items, render) {
  target.replaceChildren(...(items.length ? items.map(render) : [el("li", { class: "empty" }, t("board.none"))]));
}

async function loadOverdue() {
  const form = $("filters");
  const subtree = [...orgs.values()].filter((o) => inSubtree(o.id));
  fillSelect(form.elements.org, subtree.map((o) => o.id), orgName);
  fillSelect(form.elements.department, ROLES, (r) => t(`role.${r}`));
  fillSelect(form.elements.kind, KINDS, (k) => t(`kind.${k}`));
  fillSelect(form.elements.rung, ["overdue", "elevated"], (r) => t(`rung.${r}`));
  const query = new URLSearchParams();
  for (const name of ["org", "department", "kind", "rung", "campaign"]) {
    const value = form.elements[name].value.trim();
    if (value) query.set(name, value);
  }
  const overdue = await api("GET", `/api/v1/admin/overdue?${query}`);
  if (overdue.status === 200) list($("overdue-list"), overdue.body.rows, card);
  else if (overdue.status === 403) {
    $("overdue-list").replaceChildren(el("li", { class: "empty" }, t("board.forbidden")));
  } else showApiError(overdue);

  const below = await api("GET", "/api/v1/tasks?view=subtree");
  const tasks = below.status === 200 ? below.body.tasks : [];
  list($("subtree-list"), tasks, card);
  const counts = COLOURS.map((c) => `${t(`colour.${c}`)} ${tasks.filter((x) => x.colour === c).length}`);
  $("colour-counts").textContent = counts.join(" · ");
}

function inSubtree(id) {
  const mine = claimsOf(token)?.org;
  for (let at = orgs.get(id); at; at = orgs.get(at.parent)) {
    if (at.id === mine) return true;
  }
  return false;
}

async function loadTask(id) {
  const answer = await api("GET", `/api/v1/tasks/${encodeURIComponent(id)}`);
  if (answer.status !== 200) return showApiError(answer);
  const task = answer.body;
  const colour = task.colour;
  const heading = $("task-heading");
  heading.replaceChildren(
    colour ? el("span", { class: `chip colour-${colour}` }, t(`colour.${colour}`)) : "",
    " ",
    t(`step.${task.step}`),
  );
  const facts = [
    [t("board.duty"), task.duty],
    [t("board.filter.kind"), `${t(`kind.${task.subject.kind}`)} · ${task.subject.id}`],
    [t("board.assignee"), `${orgName(task.assignee.org)} · ${t(`role.${task.assignee.role}`)}`],
    [t("board.due"), when(task.due_at)],
    [t("board.article"), `${task.article}${task.statutory ? "" : ` ${t("board.not_statutory")}`}`],
  ];
  $("task-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("task-events").replaceChildren(
    ...task.events.map((e) =>
      el(
        "li",
        { "data-event": e.kind },
        el("time", { datetime: e.at }, when(e.at)),
        ` ${t(`event.${e.kind}`)}`,
        e.detail ? ` — ${e.detail}` : "",
      ),
    ),
  );
  // A campaign participant's step links to the campaign's progress.
  const campaignLink = $("task-campaign");
  campaignLink.hidden = task.subject.kind !== "campaign_participant";
  campaignLink.href = `#campaign/${encodeURIComponent(task.subject.id.split("/")[0])}`;
  heading.focus();
}

// ——— A campaign's progress per participant ———

async function loadCampaign(id) {
  const answer = await api("GET", `/api/v1/campaigns/${encodeURIComponent(id)}`);
  if (answer.status !== 200) return showApiError(answer);
  const campaign = answer.body;
  $("campaign-topic").textContent = `${campaign.topic} · ${campaign.period.from} – ${campaign.period.to}`;
  $("campaign-participants").replaceChildren(
    ...campaign.participants.map((p) => {
      const steps = p.open_steps.map((s) => {
        return el(
          "a",
          { href: `#task/${encodeURIComponent(s.task_id)}`, class: `chip colour-${s.colour}`, "data-colour": s.colour },
          `${t(`step.${s.step}`)} · ${t(`colour.${s.colour}`)}`,
        );
      });
      return el(
        "tr",
        { "data-participant": p.org, "data-stage": p.state },
        el("th", { scope: "row" }, p.org_name ?? orgName(p.org)),
        el("td", {}, t(`stage.${p.state}`)),
        el("td", {}, ...(steps.length ? steps : ["—"])),
        el("td", {}, String(p.problems)),
      );
    }),
  );
  $("campaign-heading").focus();
}

// ——— The inbox ———

function inboxCard(task) {
  const item = card(task);
  const form = el("form", { class: "complete", "data-task": task.id });
  const outcome = el("select", { id: `outcome-${task.id}`, name: "outcome", "data-pointer": "/outcome" });
  outcome.append(...task.outcomes.map((o) => new Option(t(`outcome.${o}`), o)));
  const note = el("textarea", { id: `note-${task.id}`, name: "note", rows: "3", "data-pointer": "/note" });
  form.append(
    el("p", { class: "error form-error", role: "alert", hidden: "" }),
    el("label", { for: `outcome-${task.id}` }, t("board.outcome")),
    outcome,
    el("p", { class: "error", id: `outcome-${task.id}-error`, hidden: "" }),
    el("label", { for: `note-${task.id}` }, t("board.note")),
    note,
    el("p", { class: "error", id: `note-${task.id}-error`, hidden: "" }),
    el("button", { type: "submit" }, t("board.complete")),
    el("p", { class: "notice", role: "status", hidden: "" }, t("board.completed")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { outcome: outcome.value };
    if (note.value.trim()) body.note = note.value.trim();
    const answer = await api("POST", `/api/v1/tasks/${encodeURIComponent(task.id)}/complete`, body);
    if (answer.status >= 200 && answer.status < 300) {
      showErrors(form, []);
      form.querySelector(".notice").hidden = false;
      form.querySelector("button").disabled = true;
    } else {
      showErrors(form, (answer.body?.errors ?? []).map((e) => ({ pointer: e.pointer, text: e.message })));
    }
  });
  item.append(form);
  return item;
}

async function loadInbox() {
  const answer = await api("GET", "/api/v1/tasks");
  if (answer.status !== 200) return showApiError(answer);
  list($("inbox-list"), answer.body.tasks, inboxCard);
}

// ——— Figures ———

async function loadStats(event) {
  event?.preventDefault();
  const form = $("stats-form");
  if (!form.elements.from.value) {
    const today = new Date().toISOString().slice(0, 10);
    form.elements.from.value = `${today.slice(0, 4)}-01-01`;
    form.elements.to.value = today;
  }
  const query = new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value });
  const answer = await api("GET", `/api/v1/admin/stats?${query}`);
  if (answer.status !== 200) return showApiError(answer);
  const figures = Object.entries(answer.body.figures);
  const most = Math.max(1, ...figures.map(([, n]) => n));
  $("chart").replaceChildren(
    ...figures.map(([name, n]) => {
      const fill = el("span", { class: "bar-fill" });
      // Through the CSSOM: the policy allows no inline style attribute.
      fill.style.width = `${(100 * n) / most}%`;
      return el(
        "div",
        { class: "bar", role: "listitem", "data-figure": name },
        el("span", { class: "bar-label" }, t(`figure.${name}`)),
        el("span", { class: "bar-track" }, fill),
        el("span", { class: "bar-value" }, String(n)),
      );
    }),
  );
}

// ——— Ledgers ———

function exportButtons() {
  const buttons = [];
  for (const ledger of ["problems", "clues", "rectifications"]) {
    for (const format of ["xlsx", "csv"]) {
      const button = el("button", { type: "button", "data-ledger": ledger, "data-format": format }, `${t(`ledger.${ledger}`)} (${format.toUpperCase()})`);
      button.addEventListener("click", () => startExport(ledger, format));
      buttons.push(button);
    }
  }
  $("export-buttons").replaceChildren(...buttons);
}

async function startExport(ledger, format) {
  const answer = await api("POST", "/api/v1/admin/exports", { ledger, format });
  if (answer.status !== 202) return showApiError(answer);
  const row = el("li", { class: "card", "data-export": answer.body.id });
  $("export-list").prepend(row);
  let status = answer.body;
  for (;;) {
    const progress = status.rows_total ? `${status.rows_written} / ${status.rows_total}` : `${status.rows_written}`;
    row.replaceChildren(
      el("strong", {}, t(`ledger.${ledger}`)),
      el("div", {}, `${t("board.export.state")}: ${t(`export.${status.state}`)} · ${progress}`),
    );
    if (status.state === "done" || status.state === "failed") break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const next = await api("GET", `/api/v1/admin/exports/${encodeURIComponent(status.id)}`);
    if (next.status !== 200) return showApiError(next);
    status = next.body;
  }
  if (status.state === "failed") {
    row.append(el("div", { class: "error" }, status.error ?? ""));
    return;
  }
  // The file needs the token, so it is fetched here and handed over as a blob.
  const response = await fetch(status.file, { headers: { authorization: `Bearer ${token}` } });
  const blob = await response.blob();
  row.append(
    el(
      "a",
      { class: "button download", href: URL.createObjectURL(blob), download: `${ledger}.${format}`, "data-bytes": blob.size },
      t("board.export.download"),
    ),
  );
}

// ——— Routing ———

function showApiError(answer) {
  if (answer.status === 401) return signOut();
  const message = answer.status === 403 ? t("board.forbidden") : answer.body?.errors?.map((e) => e.message).join("; ") ?? String(answer.status);
  fail(message);
}

function signOut() {
  sessionStorage.removeItem(TOKEN);
  token = null;
  location.hash = "";
  route();
}

async function route() {
  fail("");
  apply();
  if (!token) {
    show("signin");
    return;
  }
  const claims = claimsOf(token);
  $("who").textContent = claims ? `${claims.sub} · ${orgName(claims.org)}` : "";
  if (orgs.size === 0) {
    const answer = await api("GET", "/api/v1/orgs");
    if (answer.status !== 200) return signOut();
    orgs = new Map(answer.body.orgs.map((o) => [o.id, o]));
    $("who").textContent = claims ? `${claims.sub} · ${orgName(claims.org)}` : "";
  }
  const [section, argument] = location.hash.slice(1).split("/");
  switch (section) {
    case "inbox":
      show("inbox");
      await loadInbox();
      break;
    case "task":
      show("task");
      await loadTask(decodeURIComponent(argument ?? ""));
      break;
    case "campaign":
      show("campaign");
      await loadCampaign(decodeURIComponent(argument ?? ""));
      break;
    case "stats":
      show("stats");
      await loadStats();
      break;
    case "exports":
      show("exports");
      exportButtons();
      break;
    default:
      show("overdue");
      await loadOverdue();
  }
}

async function start() {
  apply();
  $("token-signin").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token").value, $("token-signin"));
  });
  $("dev-signin").addEventListener("submit", devSignIn);
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadOverdue();
  });
  $("stats-form").addEventListener("submit", loadStats);
  $("inbox-refresh").addEventListener("click", loadInbox);
  $("signout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  document.addEventListener("langchange", route);
  await offerDemoPeople();
  await route();
  document.body.dataset.ready = "true";
}

start();

// 监督一点通 — the public browses a division's disclosed items down the org
// tree, with no sign-in: `disclosure.html?org=<id>` shows a division, the
// divisions under it and its items; `&item=<id>` shows one item with every
// revision, and a link to complain against it (a report that names it).

import { addTexts } from "./texts.js";
import { apply, t } from "./i18n.js";
import { call } from "./api.js";

addTexts({
  zh: {
    "disclosure.up": "返回上级",
    "disclosure.below": "下级单位",
    "disclosure.items": "公开事项",
    "disclosure.revisions": "发布与更正记录",
    "disclosure.complain": "对此事项投诉",
    "disclosure.none": "暂无",
    "disclosure.corrected": "已更正",
    "disclosure.withdrawn": "已撤回：{reason}",
    "disclosure.complaints": "{n} 件投诉办理中",
    "disclosure.visits": "浏览 {n} 次",
    "disclosure.first": "首次发布",
    "disclosure.correction": "更正：{reason}",
    "disclosure.failed": "暂时无法读取，请稍后再试。",
    "kind.party": "党务", "kind.village": "村务", "kind.finance": "财务/三资",
    "kind.livelihood_fund": "民生资金", "kind.small_project": "小微工程",
  },
  en: {
    "disclosure.up": "Up one level",
    "disclosure.below": "Divisions below",
    "disclosure.items": "Disclosed items",
    "disclosure.revisions": "Published and corrected",
    "disclosure.complain": "Complain about this item",
    "disclosure.none": "None yet",
    "disclosure.corrected": "corrected",
    "disclosure.withdrawn": "Withdrawn: {reason}",
    "disclosure.complaints": "{n} complaint(s) being handled",
    "disclosure.visits": "{n} visits",
    "disclosure.first": "First published",
    "disclosure.correction": "Corrected: {reason}",
    "disclosure.failed": "Could not load this now; please try again later.",
    "kind.party": "Party affairs", "kind.village": "Village affairs", "kind.finance": "Finances",
    "kind.livelihood_fund": "Livelihood funds", "kind.small_project": "Small projects",
  },
});

const params = new URLSearchParams(location.search);
const org = params.get("org") || "370400";

function link(text, query) {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = `disclosure.html?${new URLSearchParams(query)}`;
  return a;
}

function line(...parts) {
  const li = document.createElement("li");
  li.append(...parts);
  return li;
}

function fail() {
  const problem = document.getElementById("problem");
  problem.textContent = t("disclosure.failed");
  problem.hidden = false;
}

async function showDivision() {
  const answer = await call("GET", `/api/v1/disclosure/divisions/${encodeURIComponent(org)}`);
  if (answer.status !== 200) return fail();
  const division = answer.body;
  document.getElementById("division-name").textContent = division.name;
  if (division.parent) {
    const up = document.getElementById("up");
    up.href = `disclosure.html?${new URLSearchParams({ org: division.parent })}`;
    up.hidden = false;
  }
  const below = document.getElementById("below");
  below.replaceChildren(
    ...(division.children.length
      ? division.children.map((c) => line(link(c.name, { org: c.id }), ` (${c.items})`))
      : [line(t("disclosure.none"))]),
  );
  const items = await call("GET", `/api/v1/disclosure/items?${new URLSearchParams({ division: org })}`);
  if (items.status !== 200) return fail();
  const list = document.getElementById("items");
  list.replaceChildren(
    ...(items.body.items.length
      ? items.body.items.map((i) => {
          const notes = [t(`kind.${i.kind}`), i.period];
          if (i.corrected) notes.push(t("disclosure.corrected"));
          if (i.open_complaints) notes.push(t("disclosure.complaints", { n: i.open_complaints }));
          return line(link(i.title, { org, item: i.id }), ` · ${notes.join(" · ")}`);
        })
      : [line(t("disclosure.none"))]),
  );
  return division;
}

async function showItem(id, division) {
  const answer = await call("GET", `/api/v1/disclosure/items/${encodeURIComponent(id)}`);
  if (answer.status !== 200) return fail();
  const item = answer.body;
  const latest = item.revisions[item.revisions.length - 1];
  document.getElementById("item").hidden = false;
  document.getElementById("item-title").textContent = item.title;
  document.getElementById("item-meta").textContent = [
    t(`kind.${item.kind}`),
    item.period,
    t("disclosure.visits", { n: item.visits }),
    item.open_complaints ? t("disclosure.complaints", { n: item.open_complaints }) : "",
  ].filter(Boolean).join(" · ");
  const withdrawn = document.getElementById("item-withdrawn");
  withdrawn.hidden = item.state !== "withdrawn";
  withdrawn.textContent = t("disclosure.withdrawn", { reason: item.withdrawn_reason ?? "" });
  document.getElementById("item-body").textContent = latest.body;
  document.getElementById("item-amounts").replaceChildren(
    ...latest.amounts.map((a) => line(`${a.label}: ¥${a.yuan}`)),
  );
  document.getElementById("item-revisions").replaceChildren(
    ...item.revisions.map((r) =>
      line(
        `${new Date(r.at).toLocaleString()} · `,
        r.reason ? t("disclosure.correction", { reason: r.reason }) : t("disclosure.first"),
      ),
    ),
  );
  const complain = document.getElementById("complain");
  complain.hidden = item.state !== "published";
  complain.href = `./?${new URLSearchParams({ item: item.id, division: division?.division_code ?? "" })}`;
}

async function start() {
  apply();
  try {
    const division = await showDivision();
    const item = params.get("item");
    if (item) await showItem(item, division);
  } catch (e) {
    console.warn(e);
    fail();
  }
  document.body.dataset.ready = "true";
}

document.addEventListener("langchange", () => start());
start();

// 我要举报: a real-name or anonymous report, checked against
// schemas/report.json before it is sent; the receipt and secret shown once.

import { assertSupported } from "../../utils/validate.js";
import { reportErrors, reportFromForm } from "../../utils/report-form.js";
import { errorText, text } from "../../utils/texts.js";

const app = getApp();

/** Errors by field name (`subject_name`) for the page, from JSON pointers. */
function byField(errors) {
  const fields = {};
  for (const error of errors) {
    const field = error.pointer.replace(/^\//, "").replace(/\//g, "_") || "form";
    fields[field] = fields[field] ? `${fields[field]}；${error.text}` : error.text;
  }
  return fields;
}

Page({
  data: {
    categories: [],
    categoryIndex: -1,
    realName: false,
    errors: {},
    sending: false,
    receipt: null,
  },
  schema: null,
  pending: { body: null, key: null },

  async onLoad() {
    const schema = await app.api.schema("report.json").catch(() => null);
    try {
      if (schema) assertSupported(schema);
      this.schema = schema;
    } catch (e) {
      console.warn("checking is left to the server:", e);
    }
    const values = schema?.properties?.category?.enum ?? [];
    this.setData({
      categories: values.map((value) => ({ value, label: text("zh", `category.${value}`) })),
    });
  },

  onKind(e) {
    this.setData({ realName: e.detail.value === "real_name" });
  },

  onCategory(e) {
    this.setData({ categoryIndex: Number(e.detail.value) });
  },

  async onSubmit(e) {
    const chosen = this.data.categories[this.data.categoryIndex];
    const report = reportFromForm({ ...e.detail.value, category: chosen?.value ?? "" });
    const errors = this.schema
      ? reportErrors(this.schema, report).map((err) => ({ pointer: err.pointer, text: errorText("zh", err) }))
      : [];
    this.setData({ errors: byField(errors) });
    if (errors.length) return;
    const body = JSON.stringify(report);
    if (this.pending.body !== body) {
      this.pending = { body, key: await app.api.newIdempotencyKey() };
    }
    this.setData({ sending: true });
    try {
      const answer = await app.api.submitReport(report, this.pending.key);
      if (answer.status === 201) {
        this.pending = { body: null, key: null };
        this.setData({ receipt: answer.body });
      } else {
        const server = (answer.body?.errors ?? []).map((err) => ({ pointer: err.pointer, text: err.message }));
        this.setData({ errors: byField([{ pointer: "", text: text("zh", "report.failed") }, ...server]) });
      }
    } catch {
      this.setData({ errors: { form: text("zh", "report.offline") } });
    } finally {
      this.setData({ sending: false });
    }
  },

  onDone() {
    const code = this.data.receipt.receipt_code;
    // The secret leaves the screen; only the code is carried over.
    this.setData({ receipt: null });
    wx.setStorageSync("jiandu.lastReceiptCode", code);
    wx.switchTab({ url: "/pages/follow/follow" });
  },
});

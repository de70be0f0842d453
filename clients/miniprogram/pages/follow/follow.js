// 查询办理情况: follow a report with its receipt code and secret, then rate
// the answer or object to it (检控 Art. 27). The secret is kept in this
// page's memory only, never in storage.

import { assertSupported, validate } from "../../utils/validate.js";
import { errorText, text } from "../../utils/texts.js";

const app = getApp();

function localTime(iso) {
  return iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
}

Page({
  data: { code: "", report: null, error: "", feedbackError: "", feedbackSent: false },
  credentials: null,
  feedbackSchema: null,

  async onShow() {
    const code = wx.getStorageSync("jiandu.lastReceiptCode");
    if (code) this.setData({ code });
    const schema = await app.api.schema("feedback.json").catch(() => null);
    try {
      if (schema) assertSupported(schema);
      this.feedbackSchema = schema;
    } catch (e) {
      console.warn("checking is left to the server:", e);
    }
  },

  async onLookup(e) {
    const { code, secret } = e.detail.value;
    if (!code.trim() || !secret.trim()) {
      this.setData({ error: text("zh", "error.required") });
      return;
    }
    let answer;
    try {
      answer = await app.api.followUp(code, secret);
    } catch {
      this.setData({ error: text("zh", "report.offline") });
      return;
    }
    if (answer.status === 200) {
      this.credentials = { code, secret };
      const report = answer.body;
      this.setData({
        error: "",
        report: {
          ...report,
          statusText: text("zh", `status.${report.status}`),
          receivedAt: localTime(report.received_at),
          timeline: report.timeline.map((entry) => ({
            at: localTime(entry.at),
            event: text("zh", `status.${entry.event}`),
            note: entry.note ?? "",
          })),
        },
      });
    } else {
      this.setData({ error: text("zh", answer.status === 429 ? "follow.throttled" : "follow.not_found") });
    }
  },

  async onFeedback(e) {
    const values = e.detail.value;
    const feedback = {};
    if (values.rating) feedback.rating = Number(values.rating);
    if (values.objection?.trim()) feedback.objection = values.objection.trim();
    if (values.new_evidence?.length) feedback.new_evidence = true;
    const errors = this.feedbackSchema ? validate(this.feedbackSchema, feedback) : [];
    if (errors.length) {
      this.setData({ feedbackError: errors.map((err) => errorText("zh", err)).join("；") });
      return;
    }
    const { code, secret } = this.credentials;
    const answer = await app.api
      .giveFeedback(code, secret, feedback, await app.api.newIdempotencyKey())
      .catch(() => ({ status: 0, body: null }));
    if (answer.status >= 200 && answer.status < 300) {
      this.setData({ feedbackSent: true, feedbackError: "" });
    } else {
      const message = answer.body?.errors?.map((err) => err.message).join("；");
      this.setData({ feedbackError: message || text("zh", "report.offline") });
    }
  },
});

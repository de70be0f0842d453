import { BASE_URL } from "./config.js";
import { createClient } from "./utils/request.js";

/** `n` random bytes from WeChat's secure generator. */
function randomBytes(n) {
  return new Promise((resolve, reject) => {
    wx.getRandomValues({
      length: n,
      success: (res) => resolve(new Uint8Array(res.randomValues)),
      fail: reject,
    });
  });
}

App({
  // One client for every page: the same public endpoints the web pages call.
  api: createClient({ baseUrl: BASE_URL, request: wx.request, randomBytes }),
});

// The pages' language: Chinese first, English switchable; the choice is kept
// in this browser. An element with `data-i18n="key"` shows that key's text.

import { errorText, text } from "./texts.js";

const KEY = "jiandu.lang";

/** The language in use: the one chosen in this browser, else Chinese. */
export function lang() {
  const chosen = localStorage.getItem(KEY);
  return chosen === "en" ? "en" : "zh";
}

/** The text for `key` in the language in use, `{n}` filled in. */
export function t(key, params = {}) {
  return text(lang(), key, params);
}

/** The message for a client-side error in the language in use. */
export function message(error) {
  return errorText(lang(), error);
}

/** Fills every `data-i18n` element and wires the language switch. */
export function apply(root = document) {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  const toggle = document.getElementById("lang");
  if (toggle && !toggle.dataset.wired) {
    toggle.dataset.wired = "1";
    toggle.addEventListener("click", () => {
      localStorage.setItem(KEY, lang() === "zh" ? "en" : "zh");
      apply();
      document.dispatchEvent(new Event("langchange"));
    });
  }
}

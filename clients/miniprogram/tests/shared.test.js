// What the mini-program shares with the web pages: identical copies (a
// mini-program reaches no file outside its folder) and the same words in
// both languages.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { TEXTS } from "../utils/texts.js";

const here = (path) => new URL(path, import.meta.url);

test("the shared files are the web pages' files, byte for byte", () => {
  for (const file of ["validate.js", "report-form.js", "texts.js"]) {
    assert.equal(
      readFileSync(here(`../utils/${file}`), "utf8"),
      readFileSync(here(`../../web/js/${file}`), "utf8"),
      `clients/miniprogram/utils/${file} differs from clients/web/js/${file}: copy it over`,
    );
  }
});

test("both languages have the same keys", () => {
  assert.deepEqual(Object.keys(TEXTS.en).sort(), Object.keys(TEXTS.zh).sort());
});

test("every page in app.json has its four files", () => {
  const app = JSON.parse(readFileSync(here("../app.json")));
  for (const page of app.pages) {
    for (const ext of ["js", "json", "wxml", "wxss"]) {
      assert.ok(existsSync(here(`../${page}.${ext}`)), `${page}.${ext}`);
    }
  }
});

// Drives the exported search page in Debian's headless Chromium for
// tests/test_site_browser.py and benchmarks/site/budget.py.
//
//   node drive.mjs < job.json > answer.json
//
// job: {"url": "http://127.0.0.1:PORT/", "steps": [step, …]}; each step
// is {"type": "query", "q", "section"?, "since"?, "until"?, "sort"?,
// "expand"?} (typed into the page; answers ids, stats, ms, expansions,
// message, trend), {"type": "goto", "url"}, {"type": "back"},
// {"type": "keys", "keys": [...]}, {"type": "eval", "js"}, {"type": "latency",
// "q"} (benchmarks/site/budget.py) or {"type": "screenshot", "path"}.
// The answer lists every request URL the page made, with its size.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const job = JSON.parse(readFileSync(0, "utf8"));
const profile = mkdtempSync(join(tmpdir(), "papersearch-chromium-"));
const requests = [];
const answers = [];
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: job.chromium || "/usr/bin/chromium", headless: true, args: FLAGS,
    viewport: job.viewport || { width: 1000, height: 900 }, colorScheme: job.colorScheme || "light",
  });
  context.on("request", (r) => requests.push({ url: r.url(), step: answers.length }));
  // nothing leaves loopback: any other request is refused (and recorded above)
  await context.route(/^(?!https?:\/\/(127\.0\.0\.1|localhost)[:/])/, (route) => route.abort());
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => answers.push({ error: String(e) }));
  page.on("console", (m) => { if (m.type() === "error") answers.push({ console: m.text() }); });
  await page.goto(job.url);
  await page.waitForSelector("body[data-ready]");
  for (const step of job.steps) answers.push(await run(page, step));
} catch (err) {
  answers.push({ error: String(err && err.stack || err) });
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify({ answers, requests }));

async function run(page, step) {
  if (step.type === "goto") {
    await page.goto(step.url);
    await page.waitForSelector("body[data-ready]");
    return await settle(page, step.q);
  }
  if (step.type === "back") {
    await page.goBack();
    return await settle(page, step.q);
  }
  if (step.type === "keys") {
    for (const key of step.keys) await page.keyboard.press(key);
    await page.waitForTimeout(50);
    return await state(page);
  }
  if (step.type === "eval") return await page.evaluate(step.js);
  if (step.type === "latency") return await latency(page, step);
  if (step.type === "screenshot") { // for the README: extra style sheets (a web font) may be added first
    for (const url of step.styles || []) await page.addStyleTag({ url });
    if (step.css) await page.addStyleTag({ content: step.css });
    await page.evaluate(() => document.fonts.ready);
    await page.waitForTimeout(step.wait ?? 500);
    await page.screenshot({ path: step.path, fullPage: false });
    return { path: step.path };
  }
  // a query: options first, then the text typed; answered when the list says it answers it
  await page.evaluate((s) => {
    const set = (id, v) => { const el = document.getElementById(id); if (el.value !== v) { el.value = v; el.dispatchEvent(new Event("change")); } };
    set("section", s.section || ""); set("since", s.since || ""); set("until", s.until || ""); set("sort", s.sort || "score");
    const ex = document.getElementById("expand");
    if (ex.checked !== (s.expand !== false)) { ex.checked = s.expand !== false; ex.dispatchEvent(new Event("change")); }
  }, step);
  const key = [step.q, step.section || "", step.since || "", step.until || "", step.sort || "score", step.expand !== false].join("\u0001");
  const started = Date.now();
  if (step.type === "type") {
    await page.click("#q", { clickCount: 3 });
    await page.keyboard.type(step.q, { delay: step.delay ?? 30 });
  } else {
    await page.fill("#q", step.q);
  }
  await page.waitForFunction((k) => document.getElementById("results").dataset.key === k, key, { timeout: 30000 });
  if (step.full) await page.waitForFunction(() => /papers?,|paper,/.test(document.getElementById("stats").textContent), null, { timeout: 30000 }).catch(() => {});
  return { ...(await state(page)), wall: Date.now() - started };
}

async function settle(page, q) {
  if (q !== undefined) await page.waitForFunction((v) => document.getElementById("results").dataset.query === v, q, { timeout: 30000 });
  return await state(page);
}

function state(page) {
  return page.evaluate(() => {
    const r = document.getElementById("results");
    return {
      url: location.href, q: document.getElementById("q").value, query: r.dataset.query,
      ids: (r.dataset.results || "").split(/[\s,]+/).filter(Boolean),
      dom: [...r.querySelectorAll("[data-arxiv-id]")].map((li) => li.dataset.arxivId),
      scores: [...r.querySelectorAll("[data-arxiv-id]")].map((li) => Number(li.dataset.score)),
      ms: Number(r.dataset.ms || -1), stats: document.getElementById("stats").textContent,
      message: document.getElementById("message").textContent,
      expansions: document.getElementById("expansions").textContent,
      trend: (document.querySelector("#trend svg") || { dataset: {} }).dataset.weeks || "",
      selected: [...r.children].findIndex((li) => li.classList.contains("selected")),
      focused: document.activeElement && document.activeElement.id,
      marks: [...r.querySelectorAll("mark")].slice(0, 20).map((m) => m.textContent),
    };
  });
}

// Time from the last keystroke of a typed query to its results drawn
// (data-key set), measured inside the page with performance.now().
async function latency(page, step) {
  await page.evaluate(() => {
    if (window.__watching) return;
    window.__watching = true;
    // typed Hangul arrives as text input without keydown events: the last input event is the last keystroke
    for (const type of ["keydown", "beforeinput"]) document.addEventListener(type, () => { window.__lastKey = performance.now(); }, true);
    new MutationObserver(() => { window.__drawn = performance.now(); })
      .observe(document.getElementById("results"), { attributes: true, attributeFilter: ["data-key"] });
  });
  await page.click("#q", { clickCount: 3 });
  await page.keyboard.press("Backspace");
  await page.keyboard.type(step.q, { delay: step.delay ?? 60 });
  const key = [step.q, "", "", "", "score", true].join("\u0001");
  await page.waitForFunction((k) => document.getElementById("results").dataset.key === k, key, { timeout: 30000 });
  return await page.evaluate(() => ({ ms: window.__drawn - window.__lastKey,
    ids: document.getElementById("results").dataset.results }));
}

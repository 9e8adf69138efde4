// Time from the last keystroke to results drawn, typed into the page in
// headless Chromium driven over the bare DevTools protocol (a pipe), with
// no automation library attached.
//
//   node benchmarks/site/typing.mjs < job.json   (job: {url, queries, delay?, chromium?, warm?})
//
// Why not Playwright (tests/browser/drive.mjs): it watches every request
// (the Network and Fetch domains, one message to node per request event), and
// on this 2-core machine that triples what a fetch costs the page: 200
// parallel fetches of the page's own document files took 770 ms under
// Playwright and 231-279 ms over this bare pipe. A reader's browser has
// nothing attached, so the keystroke budget is measured here; budget.py
// still uses Playwright for what it is good at, listing the bytes fetched.
//
// Prints one JSON object: {"cold": [ms...], "warm": [ms...], "ids": [...]}:
// cold = each query typed once (its shards fetched), warm = the same again
// (shards in the page's memory).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--remote-debugging-pipe"];

const job = JSON.parse(readFileSync(0, "utf8"));
const profile = mkdtempSync(join(tmpdir(), "papersearch-typing-"));
const browser = spawn(job.chromium || "/usr/bin/chromium", [...FLAGS, `--user-data-dir=${profile}`, "about:blank"],
  { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// the DevTools protocol over fds 3 (to Chromium) and 4 (from it), messages ended by NUL
let nextId = 0, pending = "";
const waiting = new Map();
// a browser that dies (or never starts) fails every command still waiting, so `finally` runs
const gone = (why) => { for (const { reject } of waiting.values()) reject(new Error(why)); waiting.clear(); };
const exited = new Promise((resolve) => {
  browser.on("exit", (code, signal) => { gone(`chromium exited (${code ?? signal})`); resolve(); });
  browser.on("error", (err) => { gone(`chromium: ${err.message}`); resolve(); }); // never started: no exit follows
});
browser.stdio[3].on("error", () => {}); // EPIPE once it is gone: reported by the exit above
browser.stdio[4].setEncoding("utf8"); // a character split between chunks stays whole
browser.stdio[4].on("data", (chunk) => {
  pending += chunk;
  for (let end; (end = pending.indexOf("\0")) >= 0; pending = pending.slice(end + 1)) {
    const message = JSON.parse(pending.slice(0, end));
    if (message.id === undefined || !waiting.has(message.id)) continue;
    const { resolve, reject } = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) reject(new Error(`${message.error.message} (${JSON.stringify(message.error.data || "")})`));
    else resolve(message.result);
  }
});
function send(method, params = {}, sessionId = undefined) {
  if (browser.exitCode !== null || browser.signalCode !== null) return Promise.reject(new Error("chromium is gone"));
  const id = ++nextId;
  const answer = new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
  browser.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + "\0");
  return answer;
}

let session;
const page = (method, params) => send(method, params, session);
async function evaluate(expression) {
  const { result, exceptionDetails } = await page("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
  if (exceptionDetails) throw new Error(`page: ${exceptionDetails.exception?.description || exceptionDetails.text}`);
  return result.value;
}

// what the page's list answers (app.js keyOf) for a query typed with the default options
const keyOf = (q) => [q, "", "", "", "score", true].join("\u0001");

const WATCH = `(() => {
  // typed Hangul arrives as text input without keydown events: the last input event is the last keystroke
  for (const type of ["keydown", "beforeinput"]) document.addEventListener(type, () => { window.__lastKey = performance.now(); }, true);
  new MutationObserver(() => { window.__drawn = performance.now(); })
    .observe(document.getElementById("results"), { attributes: true, attributeFilter: ["data-key"] });
})()`;

const answered = (key) => `new Promise((resolve, reject) => {
  const list = document.getElementById("results"), key = ${JSON.stringify(key)};
  const done = () => resolve({ ms: window.__drawn - window.__lastKey, ids: list.dataset.results });
  if (list.dataset.key === key) return done();
  const watch = new MutationObserver(() => { if (list.dataset.key === key) { watch.disconnect(); done(); } });
  watch.observe(list, { attributes: true, attributeFilter: ["data-key"] });
  setTimeout(() => reject(new Error("no answer in 30 s for " + key)), 30000);
})`;

async function key(name, code) {
  for (const type of ["rawKeyDown", "keyUp"]) {
    await page("Input.dispatchKeyEvent", { type, key: name, code: name, windowsVirtualKeyCode: code });
  }
}

async function typeQuery(q, delay) {
  await evaluate(`(() => { const box = document.getElementById("q"); box.focus(); box.select(); })()`);
  await key("Backspace", 8);
  for (const ch of q) {
    await sleep(delay);
    await page("Input.insertText", { text: ch });
  }
  return evaluate(answered(keyOf(q)));
}

let out;
try {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  ({ sessionId: session } = await send("Target.attachToTarget", { targetId, flatten: true }));
  await page("Page.enable");
  await page("Page.navigate", { url: job.url });
  for (let tries = 0; !(await evaluate("Boolean(document.body && document.body.dataset.ready)")); tries++) {
    if (tries > 300) throw new Error("the page never said it was ready");
    await sleep(50);
  }
  await evaluate(WATCH);
  for (const q of job.warm || ["모델"]) await typeQuery(q, job.delay ?? 60);
  const cold = [], warm = [], ids = [];
  for (const pass of [cold, warm]) {
    for (const q of job.queries) {
      const answer = await typeQuery(q, job.delay ?? 60);
      pass.push(answer.ms);
      if (pass === cold) ids.push(answer.ids);
    }
  }
  out = { cold, warm, ids };
} catch (err) {
  out = { error: String(err && err.stack || err) };
} finally {
  // Chromium closed as it asks to be (its helper processes exit before it does), killed only if it
  // does not within 5 s; the profile's files may still be going away, hence the retries
  send("Browser.close").catch(() => {});
  const timer = setTimeout(() => browser.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
  rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
process.stdout.write(JSON.stringify(out));

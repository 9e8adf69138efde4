// The page: query box, URL and history, keyboard, results, stats, trend.
// The engine is searcher.js (a mirror of searchkit's Python search).
import * as store from "./store.js";
import { search, QueryError, Stale, sectionName } from "./searcher.js";
import { pyRepr } from "./query.js";
import { markedHtml } from "./highlight.js";
import { trend, chart } from "./trend.js";

const $ = (id) => document.getElementById(id);
const box = $("q"), results = $("results");
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const LIMIT = 10;
let selected = -1, lastPush = 0, generation = 0;

// what the list answers, for scripts and tests: data-key = the options joined by U+0001
const keyOf = (o) => [o.q, o.section, o.since, o.until, o.sort, o.expand].join("\u0001");

function options() {
  return {
    q: box.value, section: $("section").value, since: $("since").value, until: $("until").value,
    sort: $("sort").value, expand: $("expand").checked,
  };
}

// URL ⇄ form: ?q=…&section=…&since=…&until=…&sort=date&expand=0
function toUrl(o) {
  const p = new URLSearchParams();
  if (o.q) p.set("q", o.q);
  for (const k of ["section", "since", "until"]) if (o[k]) p.set(k, o[k]);
  if (o.sort !== "score") p.set("sort", o.sort);
  if (!o.expand) p.set("expand", "0");
  const s = p.toString();
  return s ? `?${s}` : location.pathname;
}

// A URL's options as the library reads them (a section in any case, a compact date); one the
// inputs cannot hold is said, as the library says it, rather than silently dropped
let urlProblem = "";
function fromUrl() {
  const p = new URLSearchParams(location.search);
  urlProblem = "";
  // a search input deletes line breaks; the library reads them, as every control character, as spaces
  box.value = (p.get("q") || "").replace(/[\r\n]/g, " ");
  const sections = p.getAll("section").filter(Boolean);
  $("section").value = "";
  if (sections.length > 1) {
    urlProblem = `the page searches one section at a time, not ${sections.map(pyRepr).join(", ")}`;
  } else if (sections.length) {
    try { $("section").value = sectionName(sections[0]); } catch (err) { urlProblem = err.message; }
  }
  for (const name of ["since", "until"]) {
    const value = p.get(name) || "";
    const iso = /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6)}` : value;
    $(name).value = iso; // a date input keeps only a real date
    if ($(name).value !== iso) urlProblem ||= `${name} date ${pyRepr(value)} is not an ISO date like 2025-10-06`;
  }
  const sort = p.get("sort") ?? "score";
  $("sort").value = sort === "date" ? "date" : "score";
  if (sort !== "score" && sort !== "date") urlProblem ||= `sort must be 'score' or 'date', not ${pyRepr(sort)}`;
  const expand = p.get("expand") ?? "1"; // toUrl writes expand=0 only
  $("expand").checked = expand !== "0";
  if (expand !== "0" && expand !== "1") urlProblem ||= `expand must be 0 or 1, not ${pyRepr(expand)}`;
}

// A new history entry for a query typed after a pause; while typing, the entry is updated.
function remember(o) {
  const url = toUrl(o);
  if (url === location.search || (url === location.pathname && !location.search)) return;
  const now = performance.now();
  if (now - lastPush > 1500) history.pushState(o, "", url); else history.replaceState(o, "", url);
  lastPush = now;
}

// Results as you type: every keystroke starts a search at once; a search
// overtaken by a newer one stops at its next step (searcher.js `Stale`)
// and draws nothing, so the last keystroke's search never waits for them.
function schedule(push = true) {
  if (push) urlProblem = ""; // the reader changed something: the URL's options are behind them
  run(push).catch((err) => console.error(err));
}

async function run(push) {
  const started = performance.now();
  const o = options();
  const mine = ++generation;
  if (push) remember(o);
  if (!o.q.trim()) return draw(o, null, started);
  try {
    if (urlProblem) throw new QueryError(urlProblem);
    const found = await search(o.q, {
      limit: LIMIT, sections: o.section ? [o.section] : null, since: o.since || null, until: o.until || null,
      sort: o.sort, expand: o.expand, stale: () => mine !== generation,
    });
    if (mine === generation) await draw(o, found, started);
  } catch (err) {
    if (err instanceof Stale || mine !== generation) return;
    if (!(err instanceof QueryError)) console.error(err);
    results.innerHTML = "";
    results.dataset.results = "";
    results.dataset.query = o.q;
    results.dataset.key = keyOf(o);
    $("stats").textContent = "";
    $("message").textContent = err.message;
    $("trend").innerHTML = "";
    $("expansions").textContent = "";
  }
}

async function draw(o, found, started) {
  selected = -1;
  results.dataset.query = o.q;
  if (!found) {
    results.innerHTML = ""; results.dataset.results = "";
    for (const id of ["stats", "message", "expansions"]) $(id).textContent = "";
    $("trend").innerHTML = "";
    results.dataset.key = keyOf(o);
    return;
  }
  results.innerHTML = found.hits.map(render).join("");
  results.dataset.results = found.hits.map((h) => h.arxiv_id).join(" ");
  const ms = Math.round(performance.now() - started);
  results.dataset.ms = String(ms);
  $("expansions").innerHTML = found.expansions.length
    ? `also searched: ${found.expansions.map((e) => `${escape(e.source)} → ${escape(e.target)}`).join(", ")}`
    : "";
  const suggestion = found.suggestion
    ? ` Did you mean <a href="${escape(toUrl({ ...o, q: found.suggestion }))}" data-suggestion>${escape(found.suggestion)}</a>?`
    : "";
  $("message").innerHTML = found.hits.length ? (suggestion ? suggestion.trim() : "") : `No papers match.${suggestion}`;
  $("stats").textContent = `${found.hits.length ? "…" : "0 papers"}, ${ms} ms`;
  results.dataset.key = keyOf(o);
  if (!found.count) { $("trend").innerHTML = ""; return; }
  // the total and the trend come after the hits, without holding up the next search
  totals(o, found, ms);
}

// ms of quiet typing before the total and the trend are counted: counting reads every match
const TOTALS_AFTER = 120;

async function totals(o, found, ms) {
  await new Promise((resolve) => setTimeout(resolve, TOTALS_AFTER));
  if (results.dataset.key !== keyOf(o)) return;
  const counted = await found.count();
  if (results.dataset.key !== keyOf(o)) return;
  // past COUNT_BUDGET phrase checks the total is estimated, as the terminal's is (the
  // page shows the library's number), and the trend drawn from the matches found so far
  const docs = counted.docs;
  const n = counted.total;
  $("stats").textContent = `${counted.exact ? "" : "about "}${n} paper${n === 1 ? "" : "s"}, ${ms} ms`;
  $("trend").innerHTML = chart(trend(docs, o.since || null, o.until || null), !counted.exact);
}

function render(hit) {
  const labels = store.meta.tables.TEXT_FIELDS;
  const fragments = labels.filter((f) => hit.highlights[f]).map((f) =>
    `<p class="fragment"><span class="label">${f}</span> ${markedHtml(hit.highlights[f])}</p>`).join("");
  return `<li data-arxiv-id="${escape(hit.arxiv_id)}" data-score="${hit.score}">
  <a class="title" href="${escape(hit.url)}">${escape(hit.title)}</a>
  <div class="meta"><a href="${escape(hit.url)}">arXiv ${escape(hit.arxiv_id)}</a> · ${hit.dates.map(escape).join(", ")} ·
  <a class="post" href="${escape(hit.post)}">post</a> · score ${hit.score.toFixed(2)}</div>
  ${fragments}</li>`;
}

function move(step) {
  const items = [...results.children];
  if (!items.length) return;
  selected = Math.max(0, Math.min(items.length - 1, selected + step));
  items.forEach((li, i) => li.classList.toggle("selected", i === selected));
  items[selected].scrollIntoView({ block: "nearest" });
}

document.addEventListener("keydown", (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === "/" && !typing) { e.preventDefault(); box.focus(); box.select(); return; }
  if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
  else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
  else if (e.key === "Enter" && selected >= 0) {
    e.preventDefault();
    results.children[selected].querySelector("a.title").click();
  }
});

async function main() {
  await store.open(new URL("data/", import.meta.url).href);
  for (const name of Object.keys(store.meta.tables.SECTION_GROUPS)) {
    $("section").insertAdjacentHTML("beforeend", `<option value="${escape(name)}">${escape(name)}</option>`);
  }
  fromUrl();
  $("search").addEventListener("submit", (e) => { e.preventDefault(); lastPush = 0; schedule(true); });
  box.addEventListener("input", () => schedule(true));
  for (const id of ["section", "since", "until", "sort", "expand"]) $(id).addEventListener("change", () => { lastPush = 0; schedule(true); });
  results.addEventListener("click", () => {});
  $("message").addEventListener("click", (e) => {
    const a = e.target.closest("a[data-suggestion]");
    if (a) { e.preventDefault(); box.value = a.textContent; lastPush = 0; schedule(true); }
  });
  window.addEventListener("popstate", () => { fromUrl(); schedule(false); });
  document.body.dataset.ready = "1";
  if (box.value) schedule(false);
}

main().catch((err) => { // no meta.json, say: the box would otherwise sit there doing nothing
  $("message").textContent = `Search is unavailable: ${err.message}`;
  document.body.dataset.ready = "error";
});

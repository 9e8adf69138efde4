// Runs the page's own searcher.js in node, no browser: the exported data/ is
// read from disk through a stand-in for fetch. Job on stdin: {"site":
// exported directory, "queries": [{"q", "limit", "sections", "since", "until",
// "sort"}, ...]}; prints,
// for each, {"ids": [...], "scores": [...], "shown": [{section: text}, ...],
// "expansions": [[source, target], ...], "total", "exact", "suggestion"} or {"error": message}. The page's numbers
// then come from node's Math, not Chromium's: a result that leans on one
// engine's last bit shows here.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { readFromDisk } from "./disk.mjs";

const job = JSON.parse(readFileSync(0, "utf8"));
readFromDisk();
const store = await import(pathToFileURL(`${job.site}/store.js`).href);
const searcher = await import(pathToFileURL(`${job.site}/searcher.js`).href);
await store.open(`${job.site}/data/`);
const out = [];
for (const { q, limit = 10, sections = null, since = null, until = null, sort = "score" } of job.queries) {
  try {
    const found = await searcher.search(q, { limit, sections, since, until, sort });
    const shown = found.hits.map((h) => Object.fromEntries(Object.entries(h.highlights).map(([k, f]) => [k, f.text])));
    const expansions = found.expansions.map((e) => [e.source, e.target]);
    const counted = found.count ? await found.count() : { total: found.total, exact: found.totalExact };
    out.push({ ids: found.hits.map((h) => h.arxiv_id), scores: found.hits.map((h) => h.score), shown, expansions,
      total: counted.total, exact: counted.exact, suggestion: found.suggestion });
  } catch (e) {
    out.push({ error: String(e.message || e) });
  }
}
process.stdout.write(JSON.stringify(out));

// Segments words with the page's own lexicon.js in node, no browser: the
// exported data/ is read from disk through a stand-in for fetch. Job on
// stdin: {"site": exported directory, "words": [...]}; prints
// {"longest": meta.longest, "segments": [segment(word) or null, ...],
//  "fetched": distinct files read}.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { fetched, readFromDisk } from "./disk.mjs";

const job = JSON.parse(readFileSync(0, "utf8"));
readFromDisk();
const store = await import(pathToFileURL(`${job.site}/store.js`).href);
const { segment } = await import(pathToFileURL(`${job.site}/lexicon.js`).href);
const { known } = await import(pathToFileURL(`${job.site}/searcher.js`).href);
const meta = await store.open(`${job.site}/data/`);
const segments = [];
for (const word of job.words) segments.push(await segment(word, known));
process.stdout.write(JSON.stringify({ longest: meta.longest ?? null, segments, fetched: fetched.size }));

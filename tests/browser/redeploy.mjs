// A page open while the site is exported anew: the page's store.js, in node,
// reads an export from disk through a stand-in for fetch; after it opened,
// the export is replaced (a new meta.json, the old version's files gone) and
// a shard is asked for. Job on stdin: {"site": exported directory};
// prints {"before": a term's df read before, "error": the message after}.
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { readFromDisk } from "./disk.mjs";

const job = JSON.parse(readFileSync(0, "utf8"));
readFromDisk();
const store = await import(pathToFileURL(`${job.site}/store.js`).href);
const meta = await store.open(`${job.site}/data/`);
const before = await store.df("all", "모델");
await rename(`${job.site}/data/${meta.version}`, `${job.site}/data/replaced`);
await writeFile(`${job.site}/data/meta.json`, JSON.stringify({ ...meta, version: "a-new-export" }));
let error = null;
try {
  await store.df("all", "확산");
} catch (e) {
  error = e.message;
}
process.stdout.write(JSON.stringify({ before, error }));

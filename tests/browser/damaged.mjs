// The page's store.js, in node, on an export whose files were damaged after
// it was written (zeros, a truncated file): each read must say so rather than
// find nothing. Job on stdin: {"site": exported directory}; prints
// {"posting": message, "lengths": message, "gram": message} (null: no error).
import { readFileSync } from "node:fs";
import { readdir, truncate, writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { readFromDisk } from "./disk.mjs";

const job = JSON.parse(readFileSync(0, "utf8"));
readFromDisk();
const store = await import(pathToFileURL(`${job.site}/store.js`).href);
const meta = await store.open(`${job.site}/data/`);
const files = `${job.site}/data/${meta.version}`;
const message = async (call) => { try { await call(); return null; } catch (e) { return e.message; } };

const entry = (await store.entry("모델")).all;
const posting = `${files}/post/${entry.group}/${entry.file}.bin`;
await writeFile(posting, Buffer.alloc(readFileSync(posting).length));
await truncate(`${files}/len/all.bin`, meta.count - 1);
for (const name of await readdir(`${files}/gram`)) await truncate(`${files}/gram/${name}`, 40);
const out = {
  posting: await message(() => store.read("all", "모델")),
  lengths: await message(() => store.lengths("all")),
  gram: await message(() => store.gram("확산\u001f모델")),
};
process.stdout.write(JSON.stringify(out));

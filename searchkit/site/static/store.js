// The exported data, fetched a shard at a time and kept (mirrors what
// scoring.Postings, schema.Spans and the lexicon read from the index).
// Formats: searchkit/site/shards.py.

const cache = new Map();
let root = "data/", base = "data/";
export let meta = null;

// meta.json is read past any cache; every other file lies under meta.version, a directory
// each export names anew (export._write_data), so a cached file is never another export's
export async function open(dataUrl = "data/") {
  root = dataUrl;
  meta = await current();
  base = `${root}${meta.version}/`;
  return meta;
}

async function current() {
  const r = await fetch(`${root}meta.json`, { cache: "no-cache" });
  if (!r.ok) throw new Error(`meta.json: HTTP ${r.status}`);
  return r.json();
}

// A file that cannot be read: when the site was exported anew since the page opened, its
// files are gone with the old version, and the page must be reloaded (its counts are old)
async function unread(path, why) {
  const now = await current().catch(() => null);
  if (now && now.version !== meta.version) {
    throw new Error("the search index was updated since this page was opened: reload the page");
  }
  throw new Error(`${path}: ${why}`);
}

// A document's file (texts and offsets) is fetched at low priority: a search overtaken by a
// newer keystroke may still have such files queued, and the browser serves at most six requests
// to a host at once, so the newer search's shards go first.
function fetchOnce(path, kind, priority = "high") {
  if (!cache.has(path)) {
    const promise = fetch(base + path, { priority }).then((r) => {
      if (!r.ok) return unread(path, `HTTP ${r.status}`);
      return kind === "json" ? r.json() : r.arrayBuffer();
    }, (error) => unread(path, error.message));
    promise.catch(() => cache.delete(path)); // a failed fetch is tried again next time
    cache.set(path, promise);
  }
  return cache.get(path);
}

export const json = (path) => fetchOnce(path, "json");
export const binary = (path) => fetchOnce(path, "bin");

// shards.fnv1a / shard_of
const encoder = new TextEncoder();
export function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}
export const shardOf = (key, count) => fnv1a(key) % count;

export async function sharded(kind, key) {
  const shard = await json(`${kind}/${shardOf(key, meta.shards[kind])}.json`);
  return Object.prototype.hasOwnProperty.call(shard, key) ? shard[key] : undefined;
}

// Lexicon.lookup: word form → recorded [term, pos, start, end] items
export const lookup = (words) => lookupIn("lex", words);

// verbforms.readings: a verb form the corpus never wrote → Kiwi's reading (whole words only)
export const forms = (words) => lookupIn("form", words);

async function lookupIn(kind, words) {
  const unique = [...new Set(words)];
  const found = await Promise.all(unique.map((w) => sharded(kind, w)));
  const out = new Map();
  unique.forEach((w, i) => { if (found[i] !== undefined) out.set(w, found[i]); });
  return out;
}

// The term dictionary: term → {field: {df, idf, group, file, offset, length}}; a last
// element that is an object holds the glossary sources starting with the term
export async function entry(term) {
  const rows = await sharded("dict", term);
  const out = {};
  for (const row of rows || []) {
    if (!Array.isArray(row)) continue;
    const [fi, df, idf, group, file, offset, length] = row;
    out[meta.fields[fi]] = { df, idf, group, file, offset, length };
  }
  return out;
}

// glossary sources (terms joined by U+001F) starting with the term → their targets, each
// [terms, text, weight, the terms' `all` rows]; the rows are kept for `row`
const allRows = new Map();
export async function glossaryEntries(first) {
  const rows = (await sharded("dict", first)) || [];
  const last = rows[rows.length - 1];
  if (!last || Array.isArray(last)) return {};
  for (const targets of Object.values(last)) {
    for (const [terms, , , found] of targets) terms.forEach((t, i) => allRows.set(t, found[i]));
  }
  return last;
}

// a term's dictionary entry in one field, from a synonym's rows when they have it
async function row(field, term) {
  if (field === meta.tables.ALL && allRows.has(term)) {
    const found = allRows.get(term);
    if (!found) return undefined;
    const [, df, idf, group, file, offset, length] = found;
    return { df, idf, group, file, offset, length };
  }
  return (await entry(term))[field];
}

export async function df(field, term) {
  const e = await row(field, term);
  return e ? e.df : 0;
}

// shards.posting_block → (docs, tf)
export async function read(field, term) {
  const e = await row(field, term);
  if (!e) return { docs: new Int32Array(0), tf: new Float64Array(0), idf: 0 };
  const buffer = await binary(`post/${e.group}/${e.file}.bin`);
  const view = new DataView(buffer, e.offset, e.length);
  let at = 0;
  const varint = () => {
    let n = 0, shift = 0, byte;
    do { byte = view.getUint8(at++); n += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return n;
  };
  const count = varint(), distinct = varint();
  const values = [];
  for (let i = 0; i < distinct; i++) { values.push(view.getFloat32(at, true)); at += 4; }
  const docs = new Int32Array(count), tf = new Float64Array(count);
  let last = 0;
  for (let i = 0; i < count; i++) { last += varint(); docs[i] = last; }
  for (let i = 0; i < count; i++) tf[i] = values[varint()];
  // a block is read to its last byte, its documents within the count: a damaged file (zeros read
  // as an empty block) says so rather than finding nothing
  if (at !== e.length || count !== e.df || (count && last >= meta.count)) damaged(`post/${e.group}/${e.file}.bin`);
  return { docs, tf, idf: e.idf };
}

function damaged(path) {
  throw new Error(`${path} is damaged: export the page again`);
}

// Postings.lengths: each document's length in a field, as Whoosh's scorer sees it
export async function lengths(field) {
  const codes = new Uint8Array(await binary(`len/${field}.bin`));
  if (codes.length !== meta.count) damaged(`len/${field}.bin`);
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = meta.lengths[codes[i]];
  return out;
}
const lengthCache = new Map();
export function fieldLengths(field) {
  if (!lengthCache.has(field)) lengthCache.set(field, lengths(field));
  return lengthCache.get(field);
}

// shards.Grams: a run of two or three terms (joined by U+001F) → Map document → section bit mask;
// an empty Map when no section of the corpus holds it (every gram is exported)
const gramShards = new Map();
export async function gram(key) {
  const file = `gram/${shardOf(key, meta.shards.gram)}.bin`;
  if (!gramShards.has(file)) gramShards.set(file, binary(file).then(gramIndex));
  const { buffer, where } = await gramShards.get(file);
  const out = new Map();
  const at = where.get(key);
  if (!at) return out;
  const bytes = new Uint8Array(buffer, at[0], at[1]);
  let i = 0, doc = 0;
  const varint = () => {
    let n = 0, shift = 0, byte;
    do { byte = bytes[i++]; n += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return n;
  };
  while (i < bytes.length) { doc += varint(); out.set(doc, varint()); }
  return out;
}

// shards.gram_shard: the header (count, then each key and its block's length), then the blocks
const decoder = new TextDecoder();
function gramIndex(buffer) {
  const bytes = new Uint8Array(buffer);
  let i = 0;
  const varint = () => {
    let n = 0, shift = 0, byte;
    do { byte = bytes[i++]; n += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return n;
  };
  const entries = [];
  for (let count = varint(); count > 0; count--) {
    const size = varint();
    const key = decoder.decode(bytes.subarray(i, i + size));
    i += size;
    entries.push([key, varint()]);
  }
  const where = new Map();
  for (const [key, length] of entries) { where.set(key, [i, length]); i += length; }
  if (i !== bytes.length) damaged("a gram shard"); // its header names blocks the file does not hold
  return { buffer, where };
}

export const arxivDocs = async (id) => (await sharded("ids", id)) || [];
export const suggestions = async (key) => (await sharded("sugg", key)) || [];

// per-document files: the entry's texts and links, and its stored offsets
const bucket = (doc) => Math.floor(doc / meta.bucket);
export const text = (doc) => fetchOnce(`doc/${bucket(doc)}/${doc}.json`, "json", "low");

// schema.Spans: field → [term, pos, start, end] items, with the accessors ranking.py uses
const spansCache = new Map();
export function spans(doc) {
  if (!spansCache.has(doc)) {
    const unpacked = text(doc).then((stored) => new Spans(stored.spans));
    unpacked.catch(() => spansCache.delete(doc));
    spansCache.set(doc, unpacked);
  }
  return spansCache.get(doc);
}

export class Spans {
  constructor(packed) {
    this.fields = {};
    this.cached = new Map();
    for (const [name, [joined, numbers]] of Object.entries(packed)) {
      const terms = joined ? joined.split("\x1f") : [];
      const items = [];
      let pos = 0, start = 0;
      for (let i = 0; i < terms.length; i++) {
        pos += numbers[3 * i]; start += numbers[3 * i + 1];
        items.push([terms[i], pos, start, start + numbers[3 * i + 2]]);
      }
      this.fields[name] = { terms, items, vocabulary: new Set(terms) };
    }
  }
  names() { return Object.keys(this.fields); }
  has(name) { return Object.prototype.hasOwnProperty.call(this.fields, name); }
  vocabulary(name) { return this.has(name) ? this.fields[name].vocabulary : new Set(); }
  items(name) { return this.has(name) ? this.fields[name].items : []; }
  positions(name, term) {
    const key = `${name}\u0000${term}`;
    if (!this.cached.has(key)) {
      this.cached.set(key, this.items(name).filter((it) => it[0] === term).map((it) => it[1]).sort((a, b) => a - b));
    }
    return this.cached.get(key);
  }
  starts(name) { return this.items(name).map((it) => it[2]); }
  where(name, wanted, limit, since = 0) {
    const out = this.items(name).filter((it) => wanted.has(it[0]) && it[1] >= since);
    return limit == null ? out : out.slice(0, limit);
  }
}

// meta.doc_dates (runs) → each document's date; meta.copies → each document's paper
let docDates = null, paperOf = null;
export function docDate(doc) {
  if (!docDates) {
    docDates = [];
    for (const [count, code] of meta.doc_dates) for (let i = 0; i < count; i++) docDates.push(meta.dates[code]);
  }
  return docDates[doc];
}
export function copiesOf(doc) {
  if (!paperOf) {
    paperOf = new Map();
    for (const group of meta.copies) for (const d of group) paperOf.set(d, group);
  }
  return paperOf.get(doc) || [doc];
}
// the collapse key of scoring.top: a paper is its first copy
export const paperKey = (doc) => copiesOf(doc)[0];

// Mirrors searchkit/searcher.py: WhooshIndex.search (parse, known, _plan,
// Planned, _suggest, _hit), _joined_words, date_range, resolve_sections,
// is_word, _replace_word, and Planned.count.
import * as store from "./store.js";
import { QueryError, parseQuery, splitCompounds, expand, isHangul, typed, singleTerms, phrases, knows, pyRepr } from "./query.js";
import { plan, dense, top, matching, counted } from "./scoring.js";
import { coverage, proximity, proximityBounds, neighbourPairs } from "./ranking.js";
import { understand } from "./understand.js";
import { fragment, highlight } from "./highlight.js";
import { closest, deletionKeys, withinOne } from "./suggest.js";

const T = () => store.meta.tables;
export { QueryError };

// thrown at a step boundary when the caller's stale() says a newer search took over (no Python counterpart)
export class Stale extends Error {}

// WhooshIndex.known: whether any live section holds the term
export const known = async (term) => (await store.df(T().ALL, term)) > 0;

// Engine.parse: analysed, expanded by the concept layer unless not, then understood
export async function parse(query, doExpand = true) {
  let parsed = await splitCompounds(await parseQuery(query, known), known);
  joinedWords(parsed).catch(() => {}); // the joined words' dictionary shards, fetched beside the expansions'
  parsed = doExpand ? await expand(parsed) : parsed;
  return understand(parsed, (term) => store.df(T().ALL, term), store.meta.count, doExpand);
}

// schema.resolve_sections
export function resolveSections(names) {
  if (typeof names === "string") names = [names];
  if (names != null && !Array.isArray(names)) {
    throw new QueryError(`sections must be a section name or a list of them, not ${pyRepr(names)}`);
  }
  if (!names || !names.length) return [...T().TEXT_FIELDS];
  const fields = [];
  for (const name of names) {
    for (const f of T().SECTION_GROUPS[sectionName(name)]) if (!fields.includes(f)) fields.push(f);
  }
  return T().TEXT_FIELDS.filter((f) => fields.includes(f));
}

// one section name as schema.resolve_sections reads it (Python's strip, any case), or its error
export function sectionName(name) {
  if (typeof name !== "string") throw new QueryError(`section names must be text, not ${pyRepr(name)}`);
  const k = name.replace(PY_SPACE_EDGES, "").toLowerCase();
  if (!Object.prototype.hasOwnProperty.call(T().SECTION_GROUPS, k)) { // not "constructor" nor "__proto__"
    throw new QueryError(`unknown section ${pyRepr(name)}; valid sections: ${Object.keys(T().SECTION_GROUPS).join(", ")}`);
  }
  return k;
}

// str.strip()'s white space (Python's, not JS's trim(): \x1c-\x1f and \x85 are, U+FEFF is not)
const PY_SPACE_EDGES = /^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/gu;

// engine.check_limit and the sort check, first as in Engine.search
function checkOptions(limit, sort) {
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    throw new QueryError(`limit must be a positive whole number, not ${pyRepr(limit)}`);
  }
  if (sort !== "score" && sort !== "date") throw new QueryError(`sort must be 'score' or 'date', not ${pyRepr(sort)}`);
}

// searcher.date_range (ISO text: 2025-10-06 or 20251006)
export function dateRange(since, until) {
  const out = [since, until].map((value, i) => {
    if (value == null) return null; // as date_range: an empty date is an error, not no date
    const m = typeof value === "string" ? /^(\d{4})(-?)(\d{2})\2(\d{2})$/.exec(value) : null; // engine._DAY
    if (m) m.splice(2, 1); // [whole, year, month, day]
    const d = m && +m[1] >= 1 && new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])); // year 0: Python's date has none
    if (!d || d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3]) {
      throw new QueryError(`${i ? "until" : "since"} date ${pyRepr(value)} is not an ISO date like 2025-10-06`);
    }
    return `${m[1]}-${m[2]}-${m[3]}`;
  });
  if (out[0] && out[1] && out[0] > out[1]) throw new QueryError(`since date ${out[0]} is after until date ${out[1]}`);
  return out;
}

// WhooshIndex.search → {hits, total, totalExact, expansions, suggestion, query, matchingDocs}
export async function search(query, { limit = 10, sections = null, since = null, until = null, sort = "score", expand: doExpand = true, stale = () => false } = {}) {
  const check = () => { if (stale()) throw new Stale(); };
  checkOptions(limit, sort);
  const fields = resolveSections(sections);
  [since, until] = dateRange(since, until);
  const parsed = await parse(query, doExpand);
  check();
  const empty = { hits: [], total: 0, totalExact: true, expansions: parsed.expansions, suggestion: null, query: parsed.text, parsed, planned: null };
  if (!(parsed.parts.length || parsed.arxiv_ids.length) || store.meta.count === 0) return empty;
  let within = null;
  if (since || until) {
    within = new Uint8Array(store.meta.count);
    for (let d = 0; d < within.length; d++) {
      const date = store.docDate(d);
      within[d] = (!since || date >= since) && (!until || date <= until) ? 1 : 0;
    }
  }
  const unrestricted = fields.length === T().TEXT_FIELDS.length;
  for (const f of unrestricted ? [T().ALL] : fields) store.fieldLengths(f); // fetched beside the postings
  // the neighbouring words' grams, for the re-ranking's bounds, fetched beside the postings
  const adjacent = sort === "date" ? null : neighbourGrams(parsed, fields);
  const planned = { ...(await planQuery(parsed, unrestricted ? [T().ALL] : fields, within)), adjacent };
  check();
  let candidates, every = null; // every matching paper's docs, once the date order or a top saw them all
  if (sort === "date") {
    const docs = await matching(planned.parts, planned.extras, within);
    const latest = new Map();
    for (const d of docs) {
      const paper = store.paperKey(d), date = store.docDate(d);
      if (!latest.has(paper) || date > latest.get(paper)) latest.set(paper, date);
    }
    const everything = await top(planned.parts, planned.extras, latest.size, store.paperKey, within);
    const ranked = [...everything].sort((a, b) => {
      const da = latest.get(store.paperKey(a[0])), db = latest.get(store.paperKey(b[0]));
      return da !== db ? (da < db ? 1 : -1) : b[1] - a[1];
    });
    candidates = ranked.slice(0, limit).map(([d, score]) => [d, score, 1.0, 1.0]);
    every = docs;
  } else {
    // engine.window / engine.reordered: whole CANDIDATES windows, each re-ranked on its own
    const size = T().CANDIDATES, wanted = size * Math.max(1, Math.ceil(limit / size));
    const found = await top(planned.parts, planned.extras, wanted, store.paperKey, within, store.spans);
    if (found.length < wanted) every = found.map(([d]) => d).sort((a, b) => a - b);
    check();
    candidates = [];
    for (let start = 0; start < found.length && candidates.length < limit; start += size) {
      const slice = found.slice(start, start + size);
      candidates.push(...await rerank(slice, parsed, fields, planned, Math.min(limit - candidates.length, slice.length)));
    }
  }
  check();
  const [hits, suggestion] = await Promise.all([
    Promise.all(candidates.slice(0, limit).map(([d, score, c, p]) => hit(d, score * c * p, parsed, fields, planned.joined))),
    suggest(parsed),
  ]);
  return {
    hits, expansions: parsed.expansions, suggestion, query: parsed.text, parsed,
    planned: { ...planned, within }, count: async () => {
      // hits.Results.total: an estimate is never below the matching papers shown
      const tally = every ? { total: new Set(every.map(store.paperKey)).size, exact: true, docs: every } : await count(planned, within);
      return tally.exact ? tally : { ...tally, total: Math.max(tally.total, hits.length) };
    },
  };
}

// engine.Engine.search's re-ranking of the candidates by score × coverage × proximity, ordered
// as Python's stable sort orders them. Only candidates that can reach the first `limit` are
// re-ranked, and only their files (offsets and texts) are fetched: coverage is read from the
// postings already scored, and proximity is bounded from the grams of the neighbouring words
// (`proximityBounds`). The `limit` best by those bounds are fetched first, then any other
// whose best can still beat the `limit`-th of what the candidates surely reach.
async function rerank(found, parsed, fields, planned, limit) {
  const adjacent = await planned.adjacent;
  const covers = found.map(([d]) => coverage((t) => planned.present(d, t), parsed));
  const widen = (x, sign) => x + sign * Math.abs(x) * 1e-9; // room for rounding
  const low = [], high = [];
  found.forEach(([d, score], i) => {
    const [least, most] = proximityBounds((t) => planned.present(d, t), (a, b) => adjacent(d, a, b), parsed);
    const base = score * covers[i];
    low.push(widen(Math.min(base * least, base * most), -1));
    high.push(widen(Math.max(base * least, base * most), 1));
  });
  const order = found.map((_, i) => i).sort((i, j) => high[j] - high[i] || i - j);
  const near = new Map(); // candidate → its proximity, read from its offsets
  const key = (i) => found[i][1] * covers[i] * near.get(i); // the sort key, as the sort below computes it
  for (let next = order.slice(0, limit); next.length;) {
    const loaded = await Promise.all(next.map((i) => store.spans(found[i][0])));
    next.forEach((i, k) => near.set(i, proximity(loaded[k], fields, parsed)));
    const reached = found.map((_, i) => (near.has(i) ? key(i) : low[i])).sort((a, b) => b - a);
    const floor = found.length > limit ? reached[limit - 1] : -Infinity;
    next = order.filter((i) => !near.has(i) && high[i] >= floor);
  }
  return [...near.keys()].map((i) => [found[i][0], found[i][1], covers[i], near.get(i), i])
    .sort((x, y) => -x[1] * x[2] * x[3] - -y[1] * y[2] * y[3] || x[4] - y[4]);
}

// whether two words stand side by side in a document's searched sections, from their gram
async function neighbourGrams(parsed, fields) {
  const pairs = neighbourPairs(parsed, T().PROXIMITY_MIN_SIGNIFICANCE);
  const masks = new Map(await Promise.all(pairs.map(async ([a, b]) => [`${a}\x1f${b}`, await store.gram(`${a}\x1f${b}`)])));
  const bits = fields.reduce((m, f) => m | (1 << T().TEXT_FIELDS.indexOf(f)), 0);
  return (doc, a, b) => ((masks.get(`${a}\x1f${b}`)?.get(doc) || 0) & bits) !== 0;
}

// Planned.count: matching papers, estimated past COUNT_BUDGET papers' phrase checks
export async function count(planned, within) {
  const found = await counted(planned.parts, planned.extras, store.paperKey, T().COUNT_BUDGET, within);
  const papers = new Set(found.docs.map(store.paperKey));
  return { total: papers.size + roundHalfEven(found.unchecked * found.rate), exact: !found.unchecked, docs: found.docs };
}

// Python's round(): halves to even
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// WhooshIndex._plan: scored parts, joined compounds and arXiv ids as extra clauses
async function planQuery(parsed, fields, within) {
  // the three kinds of clause are read at once; their order in extras is Python's
  // a phrase's grams are fetched beside the postings
  for (const p of parsed.parts) for (const alt of p.alternatives) if (alt.length > 1) phraseGrams(alt).forEach(store.gram);
  let words = [];
  const [{ parts, present }, joined, ids] = await Promise.all([
    plan(parsed.parts, fields, T().FIELD_WEIGHTS),
    joinedWords(parsed).then((found) => Promise.all(
      (words = found).flatMap((word) => fields.map((f) => dense(f, word, T().FIELD_WEIGHTS[f] ?? 1.0))))),
    Promise.all(parsed.arxiv_ids.map(async (id) => dense("arxiv_id", await store.arxivDocs(id), T().ARXIV_BOOST))),
  ]);
  await Promise.all(parts.flatMap(([alternatives]) => alternatives.filter((a) => a.phrase).map(attachGrams)));
  return { parts, extras: [...joined, ...ids], within, present, joined: words };
}

// a phrase's exported grams (shards.Grams): document → sections that may hold it. A phrase of
// two or three terms is its gram (exact); a longer one is in no section lacking one of its runs of three
export const phraseGrams = (terms) => (terms.length <= 3 ? [terms] : terms.slice(0, -2).map((_, i) => terms.slice(i, i + 3)))
  .map((run) => run.join("\x1f"));

async function attachGrams(alt) {
  const lists = await Promise.all(phraseGrams(alt.phrase).map(store.gram));
  let masks = null;
  for (const list of lists) {
    const next = new Map();
    for (const [doc, mask] of list) if (!masks || masks.has(doc)) next.set(doc, (masks ? masks.get(doc) : ~0) & mask);
    masks = next;
  }
  alt.grams = { masks, exact: alt.phrase.length <= 3 };
}

// searcher._joined_words
async function joinedWords(parsed) {
  const names = typed(parsed).filter((p) => !p.required).map((p) => p.alternatives[0]);
  const joined = names.filter((name) => name.length > 1 && isHangul(name.join(""))).map((name) => name.join(""));
  joined.push(...neighbourPairs(parsed).map(([a, b]) => a + b).filter(isHangul));
  for (let i = 0; i + 1 < names.length; i++) {
    const word = names[i][names[i].length - 1] + names[i + 1][0];
    if (new RegExp(`^(?:${T().JOINED_NAME})$`, "u").test(word)) joined.push(word);
  }
  const words = [...new Set(joined)];
  const present = await Promise.all(words.map(known));
  return words.filter((_, i) => present[i]);
}

// WhooshIndex._hit: the paper with all its dates and each matching section's fragment
async function hit(doc, score, parsed, fields, joined = []) {
  const [stored, spans] = await Promise.all([store.text(doc), store.spans(doc)]);
  const dates = [...new Set(store.copiesOf(doc).map(store.docDate))].sort();
  const highlights = {};
  // the compounds matched written as one word (Engine._hits' joined) are marked too
  const terms = new Set([...singleTerms(parsed), ...joined]), phrased = phrases(parsed);
  // Engine._hits: a paper asked for by its id, with sections asked for by name: they open, unmarked
  const named = fields.length < T().TEXT_FIELDS.length && parsed.arxiv_ids.includes(stored.arxiv_id);
  for (const name of fields) {
    let shown = highlight(spans, name, stored.texts[name] || "", terms, phrased);
    if (!shown && named && stored.texts[name]) shown = fragment(Array.from(stored.texts[name]), []);
    if (shown) highlights[name] = shown;
  }
  return { doc, arxiv_id: stored.arxiv_id, title: stored.title, url: stored.url, post: stored.post, dates, score, highlights };
}

// searcher.is_word
export const isWord = (term) => [...term].length > 1 && /^\p{L}+$/u.test(term);

// WhooshIndex._matches
const matches = async (terms) => (await Promise.all(terms.map(known))).every(Boolean);

// WhooshIndex._suggest: "did you mean"
async function suggest(parsed) {
  let text = parsed.text, changed = false;
  const matched = new Set();
  for (const p of parsed.parts) {
    if ((await Promise.all(p.alternatives.map(matches))).some(Boolean)) for (const w of splitWords(p.label)) matched.add(w);
  }
  const unmatched = typed(parsed).filter((p) => p.label && !splitWords(p.label).every((w) => matched.has(w)));
  for (const p of unmatched.slice(0, T().SUGGEST_WORDS)) {
    const term = p.alternatives[0][0];
    if (p.alternatives[0].length > 1 || !isWord(term) || [...term].length > T().SUGGEST_LONGEST
        || (await knows([term]))) continue;
    const frequency = new Map();
    for (const key of deletionKeys(term)) {
      for (const [t, df] of await store.suggestions(key)) if (withinOne(t, term)) frequency.set(t, df);
    }
    const best = closest(term, [...frequency.keys()], (t) => frequency.get(t));
    if (best) {
      const fixed = replaceWord(text, p.label, best);
      if (fixed !== text) { text = fixed; changed = true; }
    }
  }
  return changed ? text : null;
}

const splitWords = (label) => label.split(/\s+/u).filter(Boolean);

// searcher._replace_word: free-standing occurrences only
export function replaceWord(text, word, by) {
  let out = "", last = 0, from = 0;
  const isAlnum = (c) => /^[\p{L}\p{N}]$/u.test(c);
  for (;;) {
    const at = text.indexOf(word, from);
    if (at < 0 || !word) break;
    const before = text.slice(0, at), after = text.slice(at + word.length);
    const free = (before.split('"').length - 1) % 2 === 0;
    const alone = (!before || !isAlnum([...before].pop())) && (!after || !isAlnum([...after][0]));
    if (free && alone) { out += text.slice(last, at) + by; last = at + word.length; }
    from = at + word.length;
  }
  return out + text.slice(last);
}

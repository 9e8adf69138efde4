// Mirrors searchkit/scoring.py (Postings.term/dense, plan, _alternative,
// top, matching, counted, _bounds, _exact, _best, _phrase_score, _has_phrase) and
// backends/bm25.term_scores. Dense Float64Arrays over documents stand for
// numpy's arrays, and every sum is taken in numpy's order, so scores are
// the same doubles as the library's.
import { meta, read, fieldLengths, spans as loadSpans } from "./store.js";
import { phraseStarts } from "./ranking.js";

const T = () => meta.tables;
const N = () => meta.count;

// bm25.term_scores, operation for operation
function bm25(tf, length, idf, average, k1, b) {
  const norm = k1 * ((1 - b) + b * length / average);
  return idf * (tf * (k1 + 1)) / (tf + norm);
}

// Postings.dense: a term's scores (times boost) and matches in every document
export async function dense(field, term, boost = 1.0) {
  const score = new Float64Array(N()), match = new Uint8Array(N());
  if (field === "arxiv_id") {
    for (const [doc, tf] of term) { score[doc] = tf * boost; match[doc] = 1; }
    return { score, match, phrase: null };
  }
  const { docs, tf, idf } = await read(field, term);
  if (docs.length) {
    const lengths = await fieldLengths(field);
    const average = meta.averages[field];
    for (let i = 0; i < docs.length; i++) {
      score[docs[i]] = bm25(tf[i], lengths[docs[i]], idf, average, T().BM25_K1, T().BM25_B) * boost;
      match[docs[i]] = 1;
    }
  }
  return { score, match, phrase: null };
}

// scoring.plan: every alternative of every part scored (and, for the re-ranking, which terms each document holds)
export async function plan(parts, fields, weights) {
  const seen = new Map();
  const terms = new Set();
  for (const p of parts) for (const alt of p.alternatives) for (const f of fields) for (const t of alt) terms.add(`${f}\u0000${t}`);
  await Promise.all([...terms].map(async (k) => {
    const [f, t] = k.split("\u0000");
    seen.set(k, await dense(f, t));
  }));
  const get = (f, t) => seen.get(`${f}\u0000${t}`);
  const scored = parts.map((p) => [p.alternatives.map((alt) => alternative(get, alt, fields, weights, p.weight)), p.required]);
  // whether a document holds a term of the parts in one of the fields (ranking.coverage's question)
  const present = (doc, term) => fields.some((f) => get(f, term).match[doc] === 1);
  return { parts: scored, present };
}

// scoring._alternative
function alternative(get, terms, fields, weights, weight) {
  const size = N();
  const score = new Float64Array(size), match = new Uint8Array(size);
  const perField = [];
  for (const field of fields) {
    const boost = (weights[field] ?? 1.0) * weight;
    const perTerm = terms.map((t) => get(field, t));
    const share = new Float64Array(size);
    for (let d = 0; d < size; d++) {
      let together = 1;
      for (const s of perTerm) together &= s.match[d];
      let sum = 0;
      for (const s of perTerm) sum += s.score[d];
      share[d] = (together ? sum : 0.0) * boost;
      score[d] += share[d];
      match[d] |= together;
    }
    perField.push([field, share]);
  }
  if (terms.length === 1) return { score, match, phrase: null };
  return { score, match, phrase: terms, perField, grams: null };
}

// The exported grams of a phrase (shards.Grams) settle its check without
// the document's offsets: a phrase of two or three terms is in a section
// exactly when its gram is; a longer one is ruled out where one of its
// runs of three is missing. Returns true or false when settled, null when
// the offsets must decide (no Python counterpart: Python reads the
// offsets, which gives the same).
function gramVerdict(alt, field, doc) {
  if (!alt.grams) return null;
  const mask = alt.grams.masks.get(doc) || 0;
  const bits = field === T().ALL ? ~0 : 1 << T().TEXT_FIELDS.indexOf(field);
  if (!(mask & bits)) return false;
  return alt.grams.exact ? true : null;
}

// whether some phrase check of the document needs its offsets
function needsSpans(planned, doc) {
  for (const [alternatives] of planned) {
    for (const alt of alternatives) {
      if (!alt.phrase || !alt.match[doc]) continue;
      for (const [field, share] of alt.perField) if (share[doc] && gramVerdict(alt, field, doc) === null) return true;
    }
  }
  return false;
}

// scoring._bounds
function bounds(planned, extras) {
  const size = N();
  const upper = new Float64Array(size);
  const required = new Uint8Array(size).fill(1), optional = new Uint8Array(size);
  const sureRequired = new Uint8Array(size).fill(1), sureOptional = new Uint8Array(size);
  const exact = new Uint8Array(size).fill(1);
  let hasRequired = false;
  for (const [alternatives, isRequired] of planned) {
    const singles = alternatives.filter((a) => !a.phrase);
    if (isRequired) hasRequired = true;
    for (let d = 0; d < size; d++) {
      let high = -Infinity, low = singles.length ? -Infinity : 0, hit = 0, singleHit = 0;
      for (const a of alternatives) { if (a.score[d] > high) high = a.score[d]; hit |= a.match[d]; }
      for (const a of singles) { if (a.score[d] > low) low = a.score[d]; singleHit |= a.match[d]; }
      upper[d] += high;
      exact[d] &= high === low ? 1 : 0;
      if (isRequired) { required[d] &= hit; sureRequired[d] &= singleHit; }
      else { optional[d] |= hit; sureOptional[d] |= singleHit; }
    }
  }
  for (const clause of extras) {
    for (let d = 0; d < size; d++) { upper[d] += clause.score[d]; optional[d] |= clause.match[d]; sureOptional[d] |= clause.match[d]; }
  }
  const eligible = hasRequired ? required : optional;
  const member = hasRequired ? sureRequired : sureOptional;
  const sure = new Uint8Array(size);
  for (let d = 0; d < size; d++) sure[d] = exact[d] & sureRequired[d];
  return { upper, eligible: Uint8Array.from(eligible), sure, member };
}

// scoring.top: the limit best documents, one per paper, as [doc, score]
export async function top(planned, extras, limit, key, within = null, stored = loadSpans) {
  if (limit < 1) return [];
  const { upper, eligible, sure } = bounds(planned, extras);
  const candidates = [];
  for (let d = 0; d < eligible.length; d++) if (eligible[d] && (!within || within[d])) candidates.push(d);
  candidates.sort((a, b) => (upper[b] - upper[a]) || (a - b));
  const best = new Map();
  for (let start = 0; start < candidates.length; start += T().CHUNK) {
    const chunk = candidates.slice(start, start + T().CHUNK);
    if (best.size >= limit && upper[chunk[0]] < kth(best, limit)) break;
    const loaded = await Promise.all(chunk.map((d) => (sure[d] || !needsSpans(planned, d) ? null : stored(d))));
    chunk.forEach((doc, i) => {
      const score = sure[doc] ? upper[doc] : exactScore(planned, extras, doc, loaded[i]);
      if (score === null) return;
      const paper = key(doc), held = best.get(paper);
      // an exact tie goes to the copy placed first in a full build: the export numbers them so
      if (!held || score > held[1] || (score === held[1] && doc < held[0])) best.set(paper, [doc, score]);
    });
  }
  const ranked = [...best.values()].sort((a, b) => (b[1] - a[1]) || (a[0] - b[0]));
  return ranked.slice(0, limit);
}

function kth(best, k) {
  return [...best.values()].map((v) => v[1]).sort((a, b) => b - a)[k - 1];
}

// scoring.matching: every matching document, phrases checked
export async function matching(planned, extras, within = null, stored = loadSpans) {
  const { sure, unsure } = split(planned, extras, within);
  const loaded = await Promise.all(unsure.map((d) => (needsSpans(planned, d) ? stored(d) : null)));
  const found = unsure.filter((d, i) => exactScore(planned, extras, d, loaded[i]) !== null);
  return [...sure, ...found].sort((a, b) => a - b);
}

// scoring.counted: the matching papers, at most budget phrase checks spent, papers checked in an
// order whose every prefix is spread evenly (spread); the rest estimated at the rate found
export async function counted(planned, extras, key, budget, within = null, stored = loadSpans) {
  const { sure, unsure } = split(planned, extras, within);
  const known = new Set(sure.map(key));
  const groups = new Map();
  for (const d of unsure) {
    const paper = key(d);
    if (known.has(paper)) continue;
    if (!groups.has(paper)) groups.set(paper, []);
    groups.get(paper).push(d);
  }
  const papers = [...groups.values()];
  const order = spread(papers.length, budget);
  const found = [];
  let checks = 0, sampled = 0;
  for (let start = 0; start < order.length && checks < budget; start += T().CHUNK) {
    const chunk = order.slice(start, start + T().CHUNK);
    // the chunk's first copies fetched together (one at a time was a round trip a check)
    await Promise.all(chunk.map((i) => (needsSpans(planned, papers[i][0]) ? stored(papers[i][0]) : null)));
    for (const i of chunk) {
      if (checks >= budget) break;
      sampled += 1;
      for (const d of papers[i]) {
        checks += 1;
        const spans = needsSpans(planned, d) ? await stored(d) : null;
        if (exactScore(planned, extras, d, spans) !== null) { found.push(d); break; }
      }
    }
  }
  const left = papers.length - sampled;
  return { docs: [...sure, ...found].sort((a, b) => a - b), unchecked: left, rate: left ? found.length / sampled : 0.0 };
}

// scoring._spread: size positions spread evenly over count (all when fewer), in bit-reversal order
function spread(count, size) {
  const points = count <= size ? [...Array(count).keys()] : linspace(count - 1, size);
  let bits = 0;
  while (2 ** bits < points.length) bits++;
  const out = [];
  for (let j = 0; j < 2 ** bits; j++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (j & (1 << b)) r |= 1 << (bits - 1 - b);
    if (r < points.length) out.push(points[r]);
  }
  return out;
}

// scoring._split: documents that match whatever their phrases, and those that need one
function split(planned, extras, within) {
  const { eligible, member } = bounds(planned, extras);
  const sure = [], unsure = [];
  for (let d = 0; d < eligible.length; d++) {
    if (!eligible[d] || (within && !within[d])) continue;
    (member[d] ? sure : unsure).push(d);
  }
  return { sure, unsure };
}

// numpy.linspace(0, stop, num).astype(int64)
function linspace(stop, num) {
  const step = num > 1 ? stop / (num - 1) : 0;
  const out = [];
  for (let i = 0; i < num; i++) out.push(Math.trunc(i === num - 1 && num > 1 ? stop : i * step + 0));
  return out;
}

// scoring._exact
export function exactScore(planned, extras, doc, spans) {
  let total = 0.0, matched = false, requiredOk = true;
  for (const [alternatives, isRequired] of planned) {
    const chosen = bestAlternative(alternatives, doc, spans);
    const hit = chosen !== null;
    total += hit ? chosen[1] : 0.0;
    if (isRequired) requiredOk = requiredOk && hit;
    else matched = matched || hit;
  }
  for (const clause of extras) { total += clause.score[doc]; matched = matched || !!clause.match[doc]; }
  const hasRequired = planned.some(([, r]) => r);
  if (!requiredOk || !(hasRequired || matched)) return null;
  return total;
}

// scoring._best
export function bestAlternative(alternatives, doc, spans) {
  let chosen = null;
  alternatives.forEach((alt, i) => {
    if (!alt.match[doc]) return;
    const score = !alt.phrase ? alt.score[doc] : phraseScore(spans, alt, doc);
    if (score !== null && (chosen === null || score > chosen[1])) chosen = [i, score];
  });
  return chosen;
}

// scoring._phrase_score
function phraseScore(spans, alt, doc) {
  let score = 0.0, found = false;
  for (const [field, share] of alt.perField) {
    if (!share[doc]) continue;
    const verdict = gramVerdict(alt, field, doc);
    if (verdict !== null ? verdict : hasPhrase(spans, alt.phrase, field)) { score += share[doc]; found = true; }
  }
  return found ? score : null;
}

// scoring._has_phrase
export function hasPhrase(spans, phrase, field) {
  const words = new Set(phrase);
  for (const name of field === T().ALL ? spans.names() : [field]) {
    if (!spans.has(name)) continue;
    const vocabulary = spans.vocabulary(name);
    if (![...words].every((w) => vocabulary.has(w))) continue;
    if (phraseStarts(spans, name, phrase).length) return true;
  }
  return false;
}

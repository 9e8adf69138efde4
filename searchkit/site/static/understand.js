// Mirrors searchkit/understand.py (understand, _significance, _damped):
// frame words dropped, light words and verbs weighed down, verbs' nouns
// added, every typed part's significance from its rarity, the expansions
// of common words damped. The tables (frame, light, verb lines of
// data/concepts.tsv) and the constants come from meta.tables.
import { meta } from "./store.js";
import { part, uniqueExpansions } from "./query.js";

const T = () => meta.tables;

// understand.understand; df(term) is async (the term dictionary's shards)
export async function understand(parsed, df, count, expand = true) {
  const frame = new Set(T().FRAME), light = new Set(T().LIGHT), verbs = T().VERBS;
  let parts = [...parsed.parts];
  const words = parts.filter((p) => p.typed && !p.required);
  const head = (p) => (p.alternatives[0].length === 1 ? p.alternatives[0][0] : null);
  const isVerb = (term) => term !== null && Object.prototype.hasOwnProperty.call(verbs, term);

  if (words.some((p) => !frame.has(head(p)))) {
    const dropped = new Set(words.filter((p) => frame.has(head(p))).map((p) => p.label));
    parts = parts.filter((p) => !(dropped.has(p.label) && p.typed && !p.required)
      && !(p.covers.length && p.covers.every((c) => dropped.has(c))));
  }
  let expansions = [...parsed.expansions];
  // every df the significances need, fetched at once
  const terms = [...new Set(parts.filter((p) => p.typed && !p.required).flatMap((p) => p.alternatives.flat()))];
  const dfs = new Map(await Promise.all(terms.map(async (t) => [t, await df(t)])));
  const have = new Set(parts.flatMap((p) => p.alternatives.map((a) => JSON.stringify(a))));
  const out = [], added = [];
  for (let p of parts) {
    const term = head(p);
    if (!p.typed || p.required) {
      out.push(p);
      continue;
    }
    if (light.has(term)) {
      p = { ...p, weight: p.weight * T().LIGHT_WEIGHT };
    } else if (isVerb(term)) {
      p = { ...p, weight: p.weight * T().VERB_WEIGHT };
      const nouns = verbs[term].filter((n) => !have.has(JSON.stringify([n]))).map((n) => [n]);
      if (expand && nouns.length) {
        added.push(part(nouns, { weight: T().VERB_NOUN_WEIGHT, label: p.label, typed: false, covers: [p.label] }));
        expansions.push(...nouns.map((n) => ({ source: p.label, target: n[0] })));
      }
    }
    out.push({ ...p, significance: significance(p, dfs, count, light.has(term)) });
  }
  out.push(...added);
  const typed = out.filter((p) => p.typed && !p.required);
  const highest = typed.length ? Math.max(...typed.map((p) => p.significance)) : 1.0;
  const byLabel = new Map(typed.map((p) => [p.label, p.significance]));
  let result = out;
  if (T().COMMON_DAMPING && highest > 0) {
    result = out.map((p) => (!p.typed && p.covers.length ? damped(p, byLabel, highest) : p));
  }
  return { ...parsed, parts: result, expansions: uniqueExpansions(expansions) };
}

// understand._significance: the rarity of the part's rarest term, log(N / (df + 1)), floored
function significance(p, dfs, count, isLight) {
  const terms = new Set(p.alternatives.flat());
  let rarity = null;
  for (const t of terms) {
    const r = Math.fround(Math.log(Math.max(count, 1) / (dfs.get(t) + 1))); // understand._single
    if (rarity === null || r > rarity) rarity = r;
  }
  return Math.max(T().MIN_SIGNIFICANCE, rarity ?? 0.0) * (isLight ? T().LIGHT_WEIGHT : 1.0);
}

// understand._damped: an expansion weighed down by how common its source words are
function damped(p, byLabel, highest) {
  const source = p.covers.length ? Math.max(...p.covers.map((l) => (byLabel.has(l) ? byLabel.get(l) : highest))) : highest;
  return { ...p, weight: p.weight * (source / highest) ** T().COMMON_DAMPING };
}

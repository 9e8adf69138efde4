// Mirrors searchkit/ranking.py (neighbour_pairs, coverage, proximity, _pair_weights, _near).
import { meta } from "./store.js";
import { typed } from "./query.js";

const T = () => meta.tables;

// ranking.neighbour_pairs; with least, only pairs of words at least that significant
export function neighbourPairs(parsed, least = 0.0) {
  const words = typed(parsed).filter((p) => !p.required);
  const pairs = new Map();
  for (let i = 0; i + 1 < words.length; i++) {
    const x = words[i].alternatives[words[i].alternatives.length - 1];
    const y = words[i + 1].alternatives[words[i + 1].alternatives.length - 1];
    const a = x[x.length - 1], b = y[0];
    if (a !== b && Math.min(words[i].significance, words[i + 1].significance) >= least) {
      const k = JSON.stringify([a, b]);
      if (!pairs.has(k)) pairs.set(k, [a, b]);
    }
  }
  return [...pairs.values()];
}

// ranking.coverage: words counted by significance ** SIGNIFICANCE_POWER; a found expansion
// covers its words. Told whether the document holds a term in the searched sections
// (`present`): the page reads that from the postings it scored (`all` holds every section's
// terms) rather than from the stored offsets, which gives the same
export function coverage(present, parsed) {
  const parts = typed(parsed);
  if (parts.length <= 1) return 1.0;
  const found = (p) => p.alternatives.some((alt) => alt.every(present));
  const through = new Set();
  for (const p of parsed.parts) if (p.covers.length && found(p)) for (const label of p.covers) through.add(label);
  const weights = parts.map((p) => p.significance ** T().SIGNIFICANCE_POWER);
  const covered = pySum(weights.filter((_, i) => through.has(parts[i].label) || found(parts[i])));
  return Math.max(covered / pySum(weights), 1 / parts.length) ** T().COORD_POWER;
}

// ranking.proximity: each pair counts by its less significant word ** PROXIMITY_POWER
export function proximity(spans, fields, parsed) {
  const pairs = neighbourPairs(parsed, T().PROXIMITY_MIN_SIGNIFICANCE);
  if (!pairs.length) return 1.0;
  const weights = pairWeights(parsed, pairs);
  let near = 0.0;
  pairs.forEach(([a, b], i) => {
    const candidates = fields.filter((name) => spans.vocabulary(name).has(a) && spans.vocabulary(name).has(b));
    if (candidates.some((name) => isNear(spans.positions(name, a), spans.positions(name, b)))) near += weights[i];
  });
  return 1.0 + T().PROXIMITY_BONUS * near / pySum(weights);
}

// the least and the most ranking.proximity can give a document without its offsets: a
// neighbouring pair standing side by side in a searched section (`adjacent`, from the grams)
// is near, one whose two words the document does not both hold (`present`) is not (no Python
// counterpart: the page's re-ranking reads the offsets only of candidates these bounds leave
// in reach of the first page)
export function proximityBounds(present, adjacent, parsed) {
  const pairs = neighbourPairs(parsed, T().PROXIMITY_MIN_SIGNIFICANCE);
  if (!pairs.length) return [1.0, 1.0];
  const weights = pairWeights(parsed, pairs);
  let least = 0.0, most = 0.0;
  pairs.forEach(([a, b], i) => {
    if (adjacent(a, b)) least += weights[i];
    if (present(a) && present(b)) most += weights[i];
  });
  const total = pySum(weights);
  return [1.0 + T().PROXIMITY_BONUS * least / total, 1.0 + T().PROXIMITY_BONUS * most / total];
}

// ranking._pair_weights
function pairWeights(parsed, pairs) {
  const significance = new Map();
  for (const p of typed(parsed)) {
    for (const alt of p.alternatives) {
      for (const term of [alt[0], alt[alt.length - 1]]) significance.set(term, Math.max(significance.get(term) ?? 0.0, p.significance));
    }
  }
  return pairs.map(([a, b]) => Math.min(significance.get(a) ?? 1.0, significance.get(b) ?? 1.0) ** T().PROXIMITY_POWER);
}

// ranking.phrase_starts
export function phraseStarts(spans, name, phrase) {
  let starts = spans.positions(name, phrase[0]);
  for (let offset = 1; offset < phrase.length; offset++) {
    const later = new Set(spans.positions(name, phrase[offset]));
    starts = starts.filter((p) => later.has(p + offset));
  }
  return starts;
}

// Python's sum() of floats as 3.11 adds them: left to right (3.12 compensates)
export function pySum(values) {
  let total = 0;
  for (const x of values) total += x;
  return total;
}

// bisect.bisect_left
export function bisectLeft(list, x, key = (v) => v) {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(list[mid]) < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// ranking._near
function isNear(firsts, seconds) {
  for (const b of seconds) {
    const i = bisectLeft(firsts, b);
    if (i && b - firsts[i - 1] <= T().PROXIMITY_SLOP + 1) return true;
  }
  return false;
}

// Mirrors searchkit/ranking.py (neighbour_pairs, coverage, proximity, _near).
import { meta } from "./store.js";
import { typed } from "./query.js";

const T = () => meta.tables;

// ranking.neighbour_pairs
export function neighbourPairs(parsed) {
  const singles = typed(parsed).filter((p) => !p.required).map((p) => p.alternatives[p.alternatives.length - 1]);
  const pairs = new Map();
  for (let i = 0; i + 1 < singles.length; i++) {
    const a = singles[i][singles[i].length - 1], b = singles[i + 1][0];
    if (a !== b) pairs.set(JSON.stringify([a, b]), [a, b]);
  }
  return [...pairs.values()];
}

// ranking.coverage
export function coverage(spans, fields, parsed) {
  const parts = typed(parsed);
  if (parts.length <= 1) return 1.0;
  const present = new Set();
  for (const name of fields) for (const t of spans.vocabulary(name)) present.add(t);
  const covered = parts.filter((p) => p.alternatives.some((alt) => alt.every((t) => present.has(t)))).length;
  return (Math.max(covered, 1) / parts.length) ** T().COORD_POWER;
}

// ranking.proximity
export function proximity(spans, fields, parsed) {
  const pairs = neighbourPairs(parsed);
  if (!pairs.length) return 1.0;
  let near = 0;
  for (const [a, b] of pairs) {
    const candidates = fields.filter((name) => spans.vocabulary(name).has(a) && spans.vocabulary(name).has(b));
    near += candidates.some((name) => isNear(spans.positions(name, a), spans.positions(name, b))) ? 1 : 0;
  }
  return 1.0 + T().PROXIMITY_BONUS * near / pairs.length;
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

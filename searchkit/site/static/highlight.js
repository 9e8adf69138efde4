// Mirrors searchkit/highlight.py (highlight, with_prefixes, find_matches,
// merge, fragment, _word_start, _word_end). Offsets count code points, as
// Python's str does, so texts are handled as arrays of code points.
import { meta } from "./store.js";
import { phraseStarts } from "./ranking.js";

const T = () => meta.tables;
const isAlnum = (c) => c !== undefined && /^[\p{L}\p{N}]$/u.test(c);
const isHangulChar = (c) => c !== undefined && c >= "\uac00" && c <= "\ud7a3";

// highlight.highlight → {text, spans} or null
export function highlight(spans, field, text, terms, phrases = []) {
  const wanted = new Set([...terms, ...phrases.flat()]);
  const items = spans.where(field, wanted, T().MATCHES);
  let matches = findMatches(items, terms, phrases);
  if (!matches.length && phrases.length && items.length === T().MATCHES) {
    // the cap came before any phrase: read on from the first one
    const firsts = phrases.map((phrase) => phraseStarts(spans, field, phrase)).filter((s) => s.length).map((s) => s[0]);
    if (firsts.length) matches = findMatches(spans.where(field, wanted, T().MATCHES, Math.min(...firsts)), terms, phrases);
  }
  if (!matches.length) return null;
  const chars = Array.from(text);
  return fragment(chars, withPrefixes(chars, matches, () => new Set(spans.starts(field))));
}

// highlight.with_prefixes
export function withPrefixes(chars, spans, termStarts) {
  const prefixed = (s) => s >= 1 && isHangulChar(chars[s - 1]) && (s === 1 || !isAlnum(chars[s - 2]));
  if (!spans.some(([s]) => prefixed(s))) return spans;
  const starts = termStarts();
  return merge(spans.map(([s, e]) => [prefixed(s) && !starts.has(s - 1) ? s - 1 : s, e]));
}

// highlight.find_matches
export function findMatches(stored, terms, phrases = []) {
  const spans = stored.filter((it) => terms.has(it[0])).map((it) => [it[2], it[3]]);
  const byPos = new Map();
  for (const item of stored) {
    if (!byPos.has(item[1])) byPos.set(item[1], []);
    byPos.get(item[1]).push(item);
  }
  for (const phrase of phrases) {
    for (const [term, pos, start] of stored) {
      if (term !== phrase[0]) continue;
      const end = phraseEnd(byPos, pos, phrase);
      if (end !== null) spans.push([start, end]);
    }
  }
  return merge(spans);
}

function phraseEnd(byPos, pos, phrase) {
  let end = null;
  for (let offset = 0; offset < phrase.length; offset++) {
    const found = (byPos.get(pos + offset) || []).filter((it) => it[0] === phrase[offset]);
    if (!found.length) return null;
    end = found[0][3];
  }
  return end;
}

// highlight.merge
export function merge(spans) {
  const out = [];
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

// highlight.fragment: the window holding the most matches, cut at spaces
export function fragment(chars, spans, window = T().WINDOW) {
  if (chars.length <= window) return { text: chars.join(""), spans };
  let bestStart = 0, bestEnd = 0, bestCount = -1, last = 0;
  spans.forEach(([start, end], first) => {
    last = Math.max(last, first);
    while (last < spans.length && spans[last][1] <= start + window) last++;
    if (last - first > bestCount) { bestStart = start; bestEnd = end; bestCount = last - first; }
  });
  const lo = wordStart(chars, Math.max(0, bestStart - Math.floor(window / 4)));
  const hi = wordEnd(chars, Math.min(chars.length, Math.max(lo + window, bestEnd)));
  const inside = [];
  for (const [s, e] of spans) {
    if (s < lo) continue; // bisect_left(spans, (lo, lo)): spans are sorted and disjoint
    if (s >= hi) break;
    if (e <= hi) inside.push([s - lo, e - lo]);
  }
  const prefix = lo > 0 ? "…" : "", suffix = hi < chars.length ? "…" : "";
  const shift = prefix.length;
  const body = chars.slice(lo, hi).join("").replaceAll("\n", " ");
  return { text: prefix + body + suffix, spans: inside.map(([s, e]) => [s + shift, e + shift]) };
}

function lastIndexOf(chars, c, from, to) {
  for (let i = to - 1; i >= from; i--) if (chars[i] === c) return i;
  return -1;
}

function wordStart(chars, i) {
  if (i === 0) return 0;
  const space = lastIndexOf(chars, " ", Math.max(0, i - 20), i);
  return space >= 0 ? space + 1 : i;
}

function wordEnd(chars, i) {
  if (i >= chars.length) return chars.length;
  for (let j = i; j < Math.min(chars.length, i + 20); j++) if (chars[j] === " ") return j;
  return i;
}

// hits.Fragment.marked, as HTML: matches in <mark>
export function markedHtml(frag) {
  const chars = Array.from(frag.text);
  const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  let out = "", last = 0;
  for (const [s, e] of frag.spans) {
    out += escape(chars.slice(last, s).join("")) + "<mark>" + escape(chars.slice(s, e).join("")) + "</mark>";
    last = e;
  }
  return out + escape(chars.slice(last).join(""));
}

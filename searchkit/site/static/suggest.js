// Mirrors searchkit/suggest.py (jamo, distance, closest) and the
// one-edit look-up the engine makes (Whoosh's terms_within, plus suggest.swaps: one edit, or
// two neighbouring characters swapped).
const BASE = 0xac00, LAST = 0xd7a3;
const LEADS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ";
const VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ";
const TAILS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ";

// suggest.jamo
export function jamo(text) {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0);
    if (code >= BASE && code <= LAST) {
      const offset = code - BASE;
      out += LEADS[Math.floor(offset / 588)] + VOWELS[Math.floor((offset % 588) / 28)] + TAILS[offset % 28].trim();
    } else out += char;
  }
  return out;
}

// suggest.distance (Levenshtein)
export function distance(a, b) {
  a = Array.from(a); b = Array.from(b);
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  a.forEach((ca, i) => {
    const current = [i + 1];
    b.forEach((cb, j) => current.push(Math.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca !== cb ? 1 : 0))));
    previous = current;
  });
  return previous[previous.length - 1];
}

// suggest.closest: [distance, -frequency, candidate] minimum, or null
export function closest(word, candidates, frequency) {
  const target = jamo(word);
  const limit = Math.min(2, Math.max(1, Math.floor(Array.from(target).length / 3)));
  let best = null;
  for (const candidate of new Set(candidates)) {
    if (candidate === word) continue;
    const d = distance(target, jamo(candidate));
    if (d > limit) continue;
    const row = [d, -frequency(candidate), candidate];
    if (best === null || compare(row, best) < 0) best = row;
  }
  return best ? best[2] : null;
}

// the order of Python's tuples: strings by code point, as Python orders them (JS's < compares UTF-16 units,
// which put 漢\u{20000} before 漢\ufa0e, and the page suggested the other of two tied words)
function compare(a, b) {
  for (let i = 0; i < a.length; i++) {
    const order = typeof a[i] === "string" ? byCodePoint(a[i], b[i]) : a[i] < b[i] ? -1 : a[i] > b[i] ? 1 : 0;
    if (order) return order;
  }
  return 0;
}

function byCodePoint(a, b) {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0) < y[i].codePointAt(0) ? -1 : 1;
  }
  return x.length - y.length;
}

// shards.deletion_keys
export function deletionKeys(term) {
  const chars = Array.from(term);
  const keys = new Set([term]);
  chars.forEach((_, i) => keys.add(chars.slice(0, i).concat(chars.slice(i + 1)).join("")));
  return [...keys];
}

// within one edit, or two neighbouring characters swapped (the engine's _near plus suggest.swaps)
export function withinOne(a, b) {
  a = Array.from(a); b = Array.from(b);
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (i === a.length) return true;
    const rest = (x, from) => x.slice(from).join("");
    return rest(a, i + 1) === rest(b, i + 1) ||
      (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(a, i + 2) === rest(b, i + 2));
  }
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  return long.slice(i + 1).join("") === short.slice(i).join("");
}

// Mirrors searchkit/lexicon.py (Lexicon.analyse, Lexicon.segment) and, for
// words the lexicon cannot analyse, searchkit/standin.py (StandIn): neither
// the page nor the library loads Kiwi for a query.
import { meta, lookup, forms as verbForms, json, sharded } from "./store.js";

const T = () => meta.tables;

// Offsets count code points, as Python's str does: a JS index or length counts UTF-16 units, and a
// letter outside the BMP (𝑑, pasted from a PDF) is two of them
export const points = (text) => Array.from(text).length;

// the code points before each UTF-16 index of text, asked in increasing order: one pass over the text
// (a low surrogate after a high one is the same code point)
function pointer(text) {
  let unit = 0, point = 0;
  const low = (i) => (text.charCodeAt(i) & 0xfc00) === 0xdc00, high = (i) => (text.charCodeAt(i) & 0xfc00) === 0xd800;
  return (index) => {
    for (; unit < index; unit++) if (!(low(unit) && unit > 0 && high(unit - 1))) point++;
    return point;
  };
}

// analysis.no_term: a reading that makes no term, none at all or a GAP
export const noTerm = (reading) => reading.every((r) => r[0] === T().GAP);

// lexicon._share_as_itself: how often the texts read word as the one term word
function shareAsItself(word, readings) {
  const total = readings.reduce((sum, [, n]) => sum + n, 0);
  const itself = readings.reduce((sum, [r, n]) => sum + (isItself(word, r) ? n : 0), 0);
  return total ? itself / total : 0.0;
}

// lexicon._is_itself
const isItself = (word, reading) => reading.length === 1 && reading[0][0] === word;

// Lexicon.analyse: query text → [term, pos, start, end] items
export async function analyse(text, known) {
  const matches = [...text.matchAll(/\S+/gu)];
  const words = [...new Set(matches.map((m) => m[0]))];
  const forms = [...new Set([...words, ...words.map((w) => w.toLowerCase())])];
  // a word is most often its own term: its dictionary row (and glossary entries) fetched beside its lexicon shard
  for (const w of forms) sharded("dict", w).catch(() => {});
  const found = await lookupWhole(forms);
  for (const word of words) {
    if (!found.has(word) && found.has(word.toLowerCase())) found.set(word, found.get(word.toLowerCase()));
  }
  let kiwi = false;
  for (const word of words) {
    if (found.has(word)) continue;
    const segmented = await segment(word, known);
    if (segmented === null) kiwi = true;
    else found.set(word, segmented);
  }
  // as Lexicon.analyse: every word gets the stand-in's reading (StandIn.word)
  if (kiwi) for (const word of words) found.set(word, await standIn(word, known));
  // Lexicon._as_themselves: a Hangul word read as no term that is itself an index term, searched so
  // when it is the text's one word or the texts read it so at least AS_ITSELF of the time (alt/ counts
  // every word read more than one way: a word read one way is never read as itself here)
  const candidates = [];
  for (const word of words) {
    if (noTerm(found.get(word)) && /^[\uac00-\ud7a3]{2,}$/u.test(word) && (await known(word))) candidates.push(word);
  }
  const alone = matches.length === 1;
  // and a word the texts read as itself at least AS_ITSELF of the time but most often otherwise
  // (커버리지 as 크), searched as itself beside its reading
  const beside = words.filter((word) => /^[\uac00-\ud7a3]{2,}$/u.test(word) && !noTerm(found.get(word))
    && !isItself(word, found.get(word)));
  const [counted, besideCounted] = await Promise.all([
    alone ? [] : Promise.all(candidates.map((word) => sharded("alt", word))),
    Promise.all(beside.map((word) => sharded("alt", word))),
  ]);
  candidates.forEach((word, i) => {
    if (alone || shareAsItself(word, counted[i] || []) >= T().AS_ITSELF) found.set(word, [[word, 0, 0, word.length]]);
  });
  beside.forEach((word, i) => {
    const reading = found.get(word);
    if (shareAsItself(word, besideCounted[i] || []) >= T().AS_ITSELF) {
      found.set(word, [[word, reading[0][1], 0, word.length], ...reading]);
    }
  });
  // a Hangul word read as no term holds a GAP, as the texts' analysis gives it
  for (const word of words) {
    if (!found.get(word).length && /[\uac00-\ud7a3]/u.test(word)) found.set(word, [[T().GAP, 0, 0, [...word].length]]);
  }
  const terms = [];
  const pointAt = pointer(text);
  let base = 0;
  for (const m of matches) {
    const recorded = found.get(m[0]);
    const at = pointAt(m.index);
    for (const [term, pos, start, end] of recorded) terms.push([term, base + pos, at + start, at + end]);
    base += 1 + Math.max(-1, ...recorded.map((r) => r[1]));
  }
  return terms;
}

// Lexicon.lookup_whole: a whole word's recorded reading, else Kiwi's reading of a verb form the corpus never
// wrote (never a piece inside a word: 들을 of 에이전트들을 is the plural and a particle, not 듣)
async function lookupWhole(words) {
  const found = await lookup(words);
  const missing = words.filter((w) => !found.has(w));
  if (missing.length) for (const [w, r] of await verbForms(missing)) found.set(w, r);
  return found;
}

// Lexicon.segment: an unseen Korean word from recorded words and index terms
export async function segment(word, known) {
  if (!new RegExp(`^(?:${T().HANGUL_WORD})$`, "u").test(word)) return null;
  return segmentFrom(word, 0, known, new Map());
}

// Lexicon._segment: word.slice(start) as segment reads it, worked out once per offset (a failing rest was
// otherwise tried again from every way of reaching it, exponentially many), in the same order of tries
async function segmentFrom(word, start, known, memo) {
  if (memo.has(start)) return memo.get(start);
  let result = null;
  for (const [prefix, items] of await prefixes(word, start, known)) {
    const end = start + prefix.length;
    let tail = await recordedTail(word.slice(end), known);
    if (tail === null) tail = word.length - end <= 2 ? [] : await segmentFrom(word, end, known, memo); // 된다, 에서, 으로
    if (tail !== null) {
      const shift = 1 + Math.max(...items.map((item) => item[1]));
      result = items.concat(tail.map(([t, pos, s, e]) => [t, pos + shift, s + prefix.length, e + prefix.length]));
      break;
    }
  }
  memo.set(start, result);
  return result;
}

// Lexicon._prefixes: the prefixes of word.slice(start) that are recorded words or index terms, two syllables or
// more, longest first, none longer than meta.longest (Lexicon.longest: no look-up could match one)
async function prefixes(word, start, known) {
  const stop = meta.longest == null ? word.length : Math.min(word.length, start + meta.longest);
  const candidates = [];
  for (let i = stop; i > start + 1; i--) candidates.push(word.slice(start, i));
  const [found, indexed] = await Promise.all([lookup(candidates), Promise.all(candidates.map(known))]); // shards fetched at once
  const out = [];
  candidates.forEach((prefix, i) => {
    if (nonEmpty(found.get(prefix))) out.push([prefix, found.get(prefix)]);
    else if (indexed[i]) out.push([prefix, [[prefix, 0, 0, prefix.length]]]); // an index term written bare
  });
  return out;
}

// Lexicon._recorded_tail: the rest after a prefix as one recorded word or index term; [] when it is empty or a
// case particle; null when neither
async function recordedTail(rest, known) {
  if (!rest || T().PARTICLES.includes(rest)) return [];
  if (meta.longest != null && rest.length > meta.longest) return null; // no recorded word or term is that long
  const tail = (await lookup([rest])).get(rest) ?? null;
  return tail === null && (await known(rest)) ? [[rest, 0, 0, rest.length]] : tail;
}

const nonEmpty = (items) => Array.isArray(items) && items.length > 0;

// StandIn.word: one word as Kiwi would most likely read it. Punctuation is cut off; Latin and digit names are normalised as
// analysis.normalise and analysis._with_names do; a Korean remainder is
// looked up or segmented again, or kept whole when the index has it.
export async function standIn(word, known) {
  const out = [];
  let pos = 0;
  const pointAt = pointer(word);
  for (const m of word.matchAll(/[\p{L}\p{N}][\p{L}\p{N}\-.+/]*/gu)) {
    const piece = m[0].replace(/[-.+/]+$/u, "");
    const start = pointAt(m.index);
    if (/^[A-Za-z0-9\-.+/]+$/.test(piece)) {
      const parts = [...piece.matchAll(/[A-Za-z]+|[0-9]+/g)]
        .map((p) => [normalise(p[0]), p.index]).filter(([t]) => t);
      const whole = piece.normalize("NFKC").toLowerCase();
      if (parts.length > 1) out.push([whole, pos, start, start + piece.length]);
      for (const [t, at] of parts) out.push([t, pos++, start + at, start + at + (t === "" ? 0 : partLength(piece, at))]);
      continue;
    }
    const items = await koreanStandIn(piece, known);
    for (const [t, p, s, e] of items || []) out.push([t, pos + p, start + s, start + e]);
    pos += 1 + Math.max(-1, ...(items || []).map((it) => it[1]));
  }
  return out;
}

let endings = null;
const isHangulWord = (w) => /^[\uac00-\ud7a3]+$/u.test(w);
const stem = async (p) => (await sharded("stem", p)) ?? null;

// StandIn._korean (with ._mixed, ._unknown): a Korean (or other non-Latin) piece as Kiwi would most likely read it:
// the longest head that is a recorded word, an index term or a recorded
// stem, before an ending the lexicon has seen (메모리로 → 메모리, 써야 → 쓰);
// a piece that is itself an ending reads as nothing (하려면); then the
// recorded reading, a stem, Python's segmentation, an unknown head before
// the longest known word (보상모델 → 보상 + 모델); an unknown lone syllable is
// dropped, an unknown word before a derivational suffix is split from it
// (경량화 → 경량 + 화: the glossary knows 경량) and an object particle off an
// unknown noun (얼굴을 → 얼굴), anything else is kept whole (it will match nothing, and get a
// "did you mean").
async function koreanStandIn(piece, known) {
  const lower = piece.normalize("NFKC").toLowerCase();
  if (!isHangulWord(piece)) {
    const found = await lookup([piece, lower]);
    const recorded = found.get(piece) ?? found.get(lower);
    if (recorded) return recorded;
    const runs = [...piece.matchAll(/[A-Za-z0-9][A-Za-z0-9\-.+/]*|[\uac00-\ud7a3]+|[^A-Za-z0-9\uac00-\ud7a3]+/gu)];
    if (runs.length < 2) return [[lower, 0, 0, points(piece)]];
    // mixed scripts (GPT로, 3D모델): each run on its own, as Kiwi tags them apart
    const out = [], pointAt = pointer(piece);
    let pos = 0;
    for (const run of runs) {
      const items = await standIn(run[0], known);
      const at = pointAt(run.index);
      for (const [t, p, st, e] of items) out.push([t, pos + p, at + st, at + e]);
      pos += 1 + Math.max(-1, ...items.map((it) => it[1]));
    }
    return out;
  }
  if (!endings) endings = new Set(await json("endings.json"));
  if (endings.has(piece)) return []; // 하려면, 하는가: Kiwi reads them as endings and auxiliaries
  const heads = [];
  for (let k = piece.length - 1; k >= 1; k--) if (endings.has(piece.slice(k))) heads.push(piece.slice(0, k));
  const recorded = await lookupWhole([piece, ...heads]); // the corpus's reading first, then a verb form's
  if (recorded.has(piece)) {
    // the corpus's reading, less a lone syllable it found in an ending (메모리로 → 메모리, not 메모리 + 로)
    const items = recorded.get(piece);
    for (const head of heads) {
      const inside = items.filter((it) => it[3] <= head.length), beyond = items.filter((it) => it[3] > head.length);
      if (inside.length && beyond.length && beyond.every((it) => it[2] >= head.length && it[0].length === 1)) return inside;
    }
    return items;
  }
  await Promise.all(heads.flatMap((h) => [known(h), stem(h), ...variants(h).map(known)]));
  for (const head of heads) {
    if (nonEmpty(recorded.get(head))) return recorded.get(head);
    if (await known(head)) return [[head, 0, 0, head.length]];
    const stemmed = await stem(head);
    if (stemmed) return stemmed;
    for (const v of variants(head)) if (await known(v)) return [[v, 0, 0, head.length]];
  }
  const stemmed = await stem(piece);
  if (stemmed) return stemmed;
  for (const v of variants(piece)) if (await known(v)) return [[v, 0, 0, piece.length]];
  const segmented = await segment(piece, known);
  if (segmented !== null) return segmented;
  // an unknown head before the longest known word (보상모델 → 보상 + 모델, 리랭킹 → 리 + 랭킹)
  const rests = [];
  for (let k = 1; k < piece.length - 1; k++) rests.push(piece.slice(k)); // a known word of two syllables or more
  const restFound = await lookup(rests);
  await Promise.all(rests.map(known));
  for (const rest of rests) {
    const tail = nonEmpty(restFound.get(rest)) ? restFound.get(rest) : (await known(rest)) ? [[rest, 0, 0, rest.length]] : null;
    if (!tail) continue;
    const k = piece.length - rest.length;
    return [[piece.slice(0, k), 0, 0, k], ...tail.map(([t, p, s, e]) => [t, p + 1, s + k, e + k])];
  }
  if (piece.length === 1) return [];
  // an unknown Sino-Korean word before a derivational suffix (경량화 → 경량 + 화), as Kiwi tags it
  const last = piece.length - 1;
  if (last >= 2 && T().SUFFIXES.includes(piece[last])) return [[piece.slice(0, last), 0, 0, last], [piece[last], 1, last, piece.length]];
  // an unknown noun before an object particle (얼굴을 → 얼굴), which Kiwi drops
  if (last >= 2 && "을를".includes(piece[last])) return [[piece.slice(0, last), 0, 0, last]];
  return [[lower, 0, 0, points(piece)]];
}

// standin.variants: a verb stem as written before an ending that merged into its last
// syllable: a final ㄴ ㄹ ㅁ ㅂ taken off (모른 → 모르, 쓴 → 쓰), or ㅓ
// back to ㅡ (써 → 쓰).
function variants(head) {
  const last = head.codePointAt(head.length - 1) - 0xac00;
  if (last < 0 || last > 11171) return [];
  const tail = last % 28, vowel = Math.floor((last % 588) / 28), bare = last - tail;
  const out = [];
  if ([4, 8, 16, 17].includes(tail)) out.push(head.slice(0, -1) + String.fromCodePoint(0xac00 + bare));
  if (tail === 0 && vowel === 4) out.push(head.slice(0, -1) + String.fromCodePoint(0xac00 + bare + (18 - 4) * 28));
  return out;
}

function partLength(piece, at) {
  const m = /^(?:[A-Za-z]+|[0-9]+)/.exec(piece.slice(at));
  return m ? m[0].length : 0;
}

// analysis.normalise: NFKC, lower case, stop words, light stemming
export function normalise(form) {
  const term = form.normalize("NFKC").toLowerCase();
  if (!/^[a-z]+$/.test(term)) return term;
  if (/^[A-Z][A-Z0-9]+s$/.test(form)) return term.slice(0, -1);
  if (T().STOP_WORDS.includes(term)) return "";
  return lightStem(term);
}

// analysis.light_stem
export function lightStem(word) {
  if (word.length <= 3 || T().UNCHANGED.includes(word)) return word;
  if (word.endsWith("ies") && word.length > 4) return word.slice(0, -3) + "y";
  if (["sses", "xes", "zes", "ches", "shes"].some((s) => word.endsWith(s))) return word.slice(0, -2);
  if (word.endsWith("s") && !["ss", "us", "is", "ias"].some((s) => word.endsWith(s))) return word.slice(0, -1);
  for (const suffix of ["ing", "ed"]) {
    const stem = word.slice(0, -suffix.length);
    if (word.endsWith(suffix) && stem.length >= 4 && /[aeiouy]/.test(stem)) {
      const a = stem[stem.length - 1], b = stem[stem.length - 2];
      return a === b && !"ls".includes(a) ? stem.slice(0, -1) : stem;
    }
  }
  return word;
}

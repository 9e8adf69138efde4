// Mirrors searchkit/query.py (check_query, parse_query, word_parts,
// _suffix, _glued_run, split_compounds, sequence, plain, unique) and glossary.Glossary.expand.
// A part is {alternatives: [[term, …], …], required, weight, label, typed, covers, significance}.
import { meta, glossaryEntries, lookup, sharded } from "./store.js";
import { analyse, noTerm } from "./lexicon.js";

// text.slice by code points, the offsets terms carry (lexicon.js `points`)
const pointSlice = (text, start, end) => Array.from(text).slice(start, end).join("");

const T = () => meta.tables;

export class QueryError extends Error {}

export const part = (alternatives, { required = false, weight = 1.0, label = "", typed = true, covers = [], significance = 1.0 } = {}) =>
  ({ alternatives, required, weight, label, typed, covers, significance });

// whether Python's Unicode database (tables.unassigned) leaves a code point unassigned: a browser's
// newer one may read it as a letter or an emoji, where check_query reads a space
let unassignedRuns = null;
export function pyUnassigned(cp) {
  if (!unassignedRuns) {
    const pairs = T().UNASSIGNED, starts = [], ends = [];
    for (let i = 0, end = -1; i < pairs.length; i += 2) {
      starts.push(end + 1 + pairs[i]);
      end = starts[starts.length - 1] + pairs[i + 1] - 1;
      ends.push(end);
    }
    unassignedRuns = { starts, ends };
  }
  const { starts, ends } = unassignedRuns;
  let lo = 0, hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < starts[mid]) hi = mid - 1;
    else if (cp > ends[mid]) lo = mid + 1;
    else return true;
  }
  return false;
}

// Python's repr(), as the library's error messages quote what was given: a str in single
// quotes (double when it holds one and no double), backslash escapes for what is not printable
export function pyRepr(value) {
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value == null) return "None";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return Object.is(value, -0) ? "-0.0" : String(value).replace(/e([+-])(\d)$/, "e$10$2"); // 1e-07
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value !== "string") return String(value);
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const escapes = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", [quote]: `\\${quote}` };
  let out = "";
  for (const c of value) {
    const code = c.codePointAt(0), hex = (n) => code.toString(16).padStart(n, "0");
    if (escapes[c]) out += escapes[c];
    else if (c !== " " && (/[\p{C}\p{Z}]/u.test(c) || pyUnassigned(code))) out += code < 0x100 ? `\\x${hex(2)}` : code < 0x10000 ? `\\u${hex(4)}` : `\\U${hex(8)}`;
    else out += c;
  }
  return quote + out + quote;
}

// type(value).__name__, for the library's "must be text, not int"
export const pyType = (value) => (value == null ? "NoneType" : typeof value === "boolean" ? "bool"
  : typeof value === "number" ? (Number.isInteger(value) ? "int" : "float") : Array.isArray(value) ? "list"
  : typeof value === "string" ? "str" : "dict");

// query.check_query
export function checkQuery(text) {
  if (typeof text !== "string") throw new QueryError(`query must be text, not ${pyType(text)}`);
  const broken = Array.from(text).find((c) => c.length === 1 && c >= "\ud800" && c <= "\udfff");
  if (broken !== undefined) {  // a lone surrogate (Python's for a byte that was not UTF-8)
    const code = broken.charCodeAt(0);
    const shown = code >= 0xdc80 && code <= 0xdcff ? `byte 0x${(code - 0xdc00).toString(16).padStart(2, "0")}` : "a lone surrogate";
    throw new QueryError(`query is not valid UTF-8 text (${shown}): check the terminal's encoding`);
  }
  // query.check_query: format characters dropped, other controls as spaces, then composed (NFC)
  // Python's unassigned code points first: a newer Unicode may call them format characters
  const visible = Array.from(text, (c) => (pyUnassigned(c.codePointAt(0)) ? " " : c)).join("");
  const cleaned = visible.replace(/\p{Cf}/gu, "").replace(/\p{C}/gu, " ").normalize("NFC").trim();
  if (!cleaned) throw new QueryError("empty query: give some words to search for");
  const length = [...cleaned].length;
  if (length > T().MAX_QUERY) throw new QueryError(`query is too long: ${length} characters (at most ${T().MAX_QUERY})`);
  return cleaned;
}

// query.parse_query
export async function parseQuery(text, known) {
  text = checkQuery(text);
  const parts = [];
  for (const m of text.matchAll(new RegExp(T().PHRASE, "gu"))) {
    const [analysed, others] = await Promise.all([analyse(m[1], known), phraseReadings(m[1])]); // one round of requests
    const terms = sequence(analysed);
    if (!terms.length) continue;
    const alternatives = new Map([terms, ...others].map((a) => [JSON.stringify(a), a]));
    parts.push(part([...alternatives.values()], { required: true, label: m[1] }));
  }
  const free = text.replace(new RegExp(T().PHRASE, "gu"), " ").replaceAll('"', " ");
  const arxiv = new RegExp(T().ARXIV, "gu");
  const ids = [...new Set([...free.matchAll(arxiv)].map((m) => m[1].normalize("NFKC")))];
  const words = free.replace(arxiv, " ");
  if (/[\p{L}\p{N}]/u.test(words)) parts.push(...wordParts(words, await analyse(words, known)));
  if (!parts.length && !ids.length) {
    throw new QueryError(`no searchable words in query ${pyRepr(text)} (particles, stop words and punctuation are ignored)`);
  }
  return { text, parts, arxiv_ids: ids, expansions: [] };
}

// query.phrase_readings over Lexicon.readings: a phrase's words each read every way the texts
// read them (a form read one way is in lex only, its one reading counted as the whole)
export async function phraseReadings(text) {
  const words = text.match(/\S+/gu) || [];
  if (words.length < 2) return [];
  const forms = [...new Set([...words, ...words.map((w) => w.toLowerCase())])];
  const [several, lex] = await Promise.all([Promise.all(forms.map((w) => sharded("alt", w))), lookup(forms)]);
  const readings = new Map();
  forms.forEach((w, i) => {
    if (several[i] !== undefined) readings.set(w, several[i]);
    else if (lex.has(w)) readings.set(w, [[lex.get(w), 1]]);
  });
  let beam = [[[], 1.0]];
  for (const word of words) {
    const found = readings.get(word) || readings.get(word.toLowerCase());
    if (!found) return [];
    const total = found.reduce((sum, [, n]) => sum + n, 0);
    const options = found.filter(([r], i) => !noTerm(r) || !i).map(([r, n]) => [r, n / total]);
    beam = beam.flatMap(([chosen, p]) => options.map(([r, share]) => [[...chosen, r], p * share]))
      .map((item, i) => [...item, i]).sort((a, b) => b[1] - a[1] || a[2] - b[2])
      .slice(0, T().PHRASE_READINGS).map(([chosen, p]) => [chosen, p]);
  }
  const out = new Map();
  for (const [chosen] of beam) {
    const terms = [];
    let base = 0;
    for (const reading of chosen) {
      for (const [term, pos] of reading) terms.push([term, base + pos, 0, 0]);
      base += 1 + Math.max(-1, ...reading.map((r) => r[1]));
    }
    const found = sequence(terms);
    if (found.length > 1) out.set(JSON.stringify(found), found);
  }
  return [...out.values()];
}

// query.word_parts
export function wordParts(text, terms) {
  const parts = [];
  terms = withoutPrefixedNouns(terms.filter((t) => t[0] !== T().GAP)); // a GAP holds a position only
  let i = 0;
  while (i < terms.length) {
    const [term, , start, end] = terms[i];
    const inner = terms.slice(i + 1).filter((t) => start <= t[2] && t[3] <= end);
    const label = pointSlice(text, start, end);
    const glued = gluedRun(terms, i);
    if (inner.length) {
      parts.push(part([[term], inner.map((t) => t[0])], { label }));
      i += 1 + inner.length;
    } else if (glued.length > 1 && glued.every((t) => isHangul(t[0]))) {
      for (const group of bound(glued)) {
        parts.push(part([group.map((t) => t[0])], { label: pointSlice(text, group[0][2], group[group.length - 1][3]) }));
      }
      i += glued.length;
    } else if (!suffix(terms, i)) {
      parts.push(part([[term]], { label }));
      i += 1;
    } else {
      i += 1;
    }
  }
  return unique(parts);
}

// query._without_prefixed_nouns: the terms less those a prefixed word of the same position stands over
// (지도 under 비지도), which a typed prefixed word is searched without, glued to others or not
function withoutPrefixedNouns(terms) {
  const out = [];
  for (const term of terms) {
    const over = [...out].reverse().find((t) => t[1] === term[1]);
    if (over === undefined || !prefixed(over, term)) out.push(term);
  }
  return out;
}

// query._prefixed: whole is noun with prefixes (T().PREFIXES) before it
function prefixed(whole, noun) {
  const chars = Array.from(whole[0]), tail = Array.from(noun[0]);
  const head = chars.slice(0, chars.length - tail.length);
  return head.length > 0 && whole[3] === noun[3] && whole[0].endsWith(noun[0]) && isHangul(whole[0])
    && head.every((c) => T().PREFIXES.includes(c));
}

// query._bound: glued Korean pieces grouped into what is matched together (a lone syllable or a
// term the texts write only glued, meta.sticky / Lexicon.sticky, binds to the piece before it, or,
// first in its group, to the piece after it)
function bound(run) {
  const binds = run.map((t) => [...t[0]].length === 1 || meta.sticky.includes(t[0]));
  const groups = [];
  binds.forEach((binding, i) => {
    const last = groups[groups.length - 1];
    if (last && (binding || (last.length === 1 && binds[last[0]]))) last.push(i);
    else groups.push([i]);
  });
  return groups.map((group) => group.map((i) => run[i]));
}

// query._glued_run: the terms from i on glued together in one word, glued suffixes left out
function gluedRun(terms, i) {
  const run = [terms[i]];
  for (let j = i + 1; j < terms.length; j++) {
    if (terms[j][2] !== run[run.length - 1][3] || suffix(terms, j)) break;
    run.push(terms[j]);
  }
  return run;
}

// query._suffix
function suffix(terms, i) {
  return i > 0 && T().SUFFIXES.includes(terms[i][0]) && terms[i - 1][3] === terms[i][2];
}

// query.is_hangul
export const isHangul = (term) => term.length > 0 && [...term].every((c) => c >= "\uac00" && c <= "\ud7a3");

// query.split_compounds
export async function splitCompounds(parsed, known) {
  const parts = [];
  for (const p of parsed.parts) {
    const alternatives = [...p.alternatives];
    if (alternatives.length === 1 && alternatives[0].length === 1 && isHangul(alternatives[0][0])) {
      const word = alternatives[0][0];
      const halves = [];
      for (let i = 2; i < word.length - 1; i++) halves.push(word.slice(0, i), word.slice(i));
      await Promise.all(halves.map(known)); // shards fetched at once
      for (let i = 2; i < word.length - 1; i++) {
        if ((await known(word.slice(0, i))) && (await known(word.slice(i)))) alternatives.push([word.slice(0, i), word.slice(i)]);
      }
    }
    parts.push({ ...p, alternatives });
  }
  return { ...parsed, parts };
}

// query.plain
// query.sequence: a phrase's terms position by position, a GAP kept between terms, none at either end
export function sequence(terms) {
  const found = plain(terms).map((t) => t[0]);
  while (found.length && found[0] === T().GAP) found.shift();
  while (found.length && found[found.length - 1] === T().GAP) found.pop();
  return found;
}

export function plain(terms) {
  const out = [];
  for (const t of terms) {
    const last = out[out.length - 1];
    if (last && last[1] === t[1]) out[out.length - 1] = t; // the part replaces the whole name at its position
    else out.push(t);
  }
  return out;
}

const key = (alternatives) => JSON.stringify(alternatives);

// query.unique
export function unique(parts) {
  const seen = new Set();
  return parts.filter((p) => (seen.has(key(p.alternatives)) ? false : (seen.add(key(p.alternatives)), true)));
}

export const typed = (parsed) => parsed.parts.filter((p) => p.typed);
// ParsedQuery.terms and .phrases
export const singleTerms = (parsed) =>
  new Set(parsed.parts.flatMap((p) => p.alternatives.filter((a) => a.length === 1).map((a) => a[0])));
export const phrases = (parsed) => parsed.parts.flatMap((p) => p.alternatives.filter((a) => a.length > 1));

// glossary.Glossary.synonyms, looked up by source terms
export async function synonyms(source) {
  if (!source.length) return [];
  const entries = await glossaryEntries(source[0]), key = source.join("\x1f");
  // own keys only: "constructor" is no glossary source (it was Object.prototype's, and crashed the page)
  return Object.prototype.hasOwnProperty.call(entries, key) ? entries[key] : [];
}

// glossary.Glossary.knows
export const knows = async (terms) => (await synonyms(terms)).length > 0;

// glossary._source_terms
function sourceTerms(p) {
  const first = p.alternatives[0];
  if (p.alternatives.length > 1 && !isHangul(first[0])) return p.alternatives[1];
  return first;
}

// glossary.Glossary.expand
export async function expand(parsed) {
  const words = parsed.parts.filter((p) => !p.required && p.typed);
  const seqs = words.map(sourceTerms);
  // every shard a run of words may need, fetched at once rather than run by run
  await Promise.all(seqs.filter((q) => q.length).map((q) => glossaryEntries(q[0])));
  const typedKeys = new Set(parsed.parts.flatMap((p) => p.alternatives.map((a) => JSON.stringify(a))));
  const added = [], expansions = [];
  for (let i = 0; i < words.length; i++) {
    for (let j = i + 1; j <= Math.min(words.length, i + T().MAX_SPAN); j++) {
      const source = seqs.slice(i, j).flat();
      const label = words.slice(i, j).map((p) => p.label).join(" ");
      const groups = new Map(); // weight → alternatives, in first-seen order as a Python dict
      for (const [terms, text, weight] of await synonyms(source)) {
        if (typedKeys.has(JSON.stringify(terms))) continue;
        if (!groups.has(weight)) groups.set(weight, []);
        groups.get(weight).push(terms);
        expansions.push({ source: label, target: text });
      }
      const covers = words.slice(i, j).map((p) => p.label);
      for (const [weight, alternatives] of groups) {
        if (T().GROUP) {
          const seen = new Set();
          const distinct = alternatives.filter((a) => (seen.has(key(a)) ? false : (seen.add(key(a)), true)));
          added.push(part(distinct, { weight, label, typed: false, covers }));
        } else {
          for (const a of alternatives) added.push(part([a], { weight, label, typed: false, covers }));
        }
      }
    }
  }
  if (!added.length) return parsed;
  return { ...parsed, parts: [...parsed.parts, ...unique(added)], expansions: uniqueExpansions(expansions) };
}

// tuple(dict.fromkeys(expansions))
export function uniqueExpansions(expansions) {
  const seen = new Set();
  return expansions.filter((e) => {
    const k = JSON.stringify([e.source, e.target]);
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

// Mirrors searchkit/site/trend.py (trend, week_start, fill_weeks) and draws
// the weeks as an inline SVG bar chart.
import * as store from "./store.js";

// trend.week_start: the Monday of the ISO week holding day
export function weekStart(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

// trend.trend, from the matching documents: each paper once a week it was posted in range
export function trend(docs, since, until) {
  const counts = new Map();
  const papers = new Set(docs.map(store.paperKey));
  for (const paper of papers) {
    const weeks = new Set(store.copiesOf(paper).map(store.docDate)
      .filter((d) => (!since || d >= since) && (!until || d <= until)).map(weekStart));
    for (const w of weeks) counts.set(w, (counts.get(w) || 0) + 1);
  }
  return fillWeeks(counts);
}

// trend.fill_weeks
export function fillWeeks(counts) {
  if (!counts.size) return [];
  const keys = [...counts.keys()].sort();
  const out = [];
  for (let d = new Date(`${keys[0]}T00:00:00Z`); d.toISOString().slice(0, 10) <= keys[keys.length - 1]; d.setUTCDate(d.getUTCDate() + 7)) {
    const week = d.toISOString().slice(0, 10);
    out.push([week, counts.get(week) || 0]);
  }
  return out;
}

export function chart(weeks, estimated = false) {
  if (!weeks.length) return "";
  const width = 600, height = 60, gap = 1;
  const bar = width / weeks.length;
  const highest = Math.max(...weeks.map(([, n]) => n));
  const bars = weeks.map(([week, n], i) => {
    const h = highest ? Math.max(n ? 2 : 0, (n / highest) * (height - 4)) : 0;
    return `<rect x="${(i * bar).toFixed(1)}" y="${(height - h).toFixed(1)}" width="${Math.max(1, bar - gap).toFixed(1)}" height="${h.toFixed(1)}"><title>${week}: ${n}</title></rect>`;
  }).join("");
  const caption = `<div class="caption"><span>${weeks[0][0]}</span><span>${estimated ? "at least " : ""}papers per week (most: ${highest})</span><span>${weeks[weeks.length - 1][0]}</span></div>`;
  return `<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="matching papers per week, ${weeks[0][0]} to ${weeks[weeks.length - 1][0]}" data-weeks="${weeks.map(([w, n]) => `${w}:${n}`).join(" ")}">${bars}</svg>${caption}`;
}

// The status page: one card per load balancer with a chart of demand,
// forecast band and ready capacity, its pool's phase and share, and the
// recent decisions in words. Refreshes every 10 s. No external assets.
"use strict";

const token = (() => {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) sessionStorage.setItem("token", decodeURIComponent(m[1]));
  return sessionStorage.getItem("token");
})();

async function get(path) {
  const h = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch(path, { headers: h });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const svgEl = (tag, attrs = {}) => {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
const num = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v)) ? "–" : Number(v).toFixed(d);
const hhmm = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const hhmmss = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const ago = (t) => {
  const s = Math.max(0, (Date.now() - new Date(t)) / 1000);
  return s < 90 ? Math.round(s) + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago";
};

// explain puts a plan into words.
function explain(lb) {
  const f = lb.forecast;
  const parts = [];
  if (lb.paused) parts.push("Paused by the operator: nothing is changed for this load balancer.");
  if (lb.demand !== null) parts.push(`Demand is ${num(lb.demand)} req/s now.`);
  else parts.push("Demand is unknown right now (no recent data).");
  if (f) {
    parts.push(`The ${f.model}${f.calibrated ? " (calibrated)" : ""} forecast for ${hhmm(f.next.t)} is ${num(f.next.p50)} req/s (p10 ${num(f.next.p10)}, p90 ${num(f.next.p90)})` +
      (f.fallback ? `, a fallback because ${f.fallback}.` : "."));
  } else parts.push("There is no forecast yet.");
  if (lb.capacity_per_instance > 0) {
    parts.push(`${lb.instances} instance${lb.instances === 1 ? "" : "s"} serve at ${num(lb.capacity_per_instance)} req/s each: ${num(lb.capacity)} req/s ready; the plan needs ${lb.needed} within the lead time.`);
  }
  if (lb.phase !== "Idle") parts.push(`Shadow pool ${lb.pool || ""} is ${lb.phase} with ${lb.share}% of the traffic.`);
  return parts.join(" ");
}

function sentence(d) {
  let s = d.decision;
  if (s.startsWith("dry-run: ")) s = "dry-run, nothing done: " + s.slice(9);
  return `${hhmmss(d.t)} — ${d.phase}${d.share ? " (" + d.share + "%)" : ""}: ${s}`;
}

// chart draws demand, the forecast band (past one-step-ahead and the
// current forecast ahead) and the ready capacity on one time axis.
function chart(h) {
  const W = 640, H = 220, L = 44, R = 8, T = 10, B = 24;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "demand, forecast and capacity of " + h.lb });
  const band = h.forecast.concat(h.ahead);
  // The axis starts at the oldest data (a young service has less than the
  // window) and ends with the forecast ahead.
  const seen = h.demand.concat(h.capacity, h.forecast).map((p) => +new Date(p.t));
  const t0 = seen.length ? Math.min(...seen) : +new Date(h.from);
  const t1 = Math.max(+new Date(h.to), ...h.ahead.map((p) => +new Date(p.t)));
  const label = t1 - t0 < 15 * 60 * 1000 ? hhmmss : hhmm;
  const ys = [1].concat(h.demand.map((p) => p.v), band.map((p) => p.p90), h.capacity.map((p) => p.v));
  const y1 = Math.max(...ys) * 1.1;
  const x = (t) => L + (W - L - R) * ((+new Date(t) - t0) / Math.max(1, t1 - t0));
  const y = (v) => T + (H - T - B) * (1 - v / y1);
  for (let i = 0; i <= 4; i++) {
    const v = (y1 * i) / 4;
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    const tx = svgEl("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" });
    tx.textContent = num(v);
    svg.append(tx);
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    const tx = svgEl("text", { x: x(t), y: H - 6, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" });
    tx.textContent = label(t);
    svg.append(tx);
  }
  const line = (pts, cls, key) => {
    if (!pts.length) return;
    const d = pts.map((p, i) => (i ? "L" : "M") + x(p.t).toFixed(1) + "," + y(key(p)).toFixed(1)).join("");
    svg.append(svgEl("path", { d, class: cls, "data-points": pts.length }));
  };
  if (band.length) {
    const up = band.map((p) => x(p.t).toFixed(1) + "," + y(p.p90).toFixed(1));
    const down = band.slice().reverse().map((p) => x(p.t).toFixed(1) + "," + y(p.p10).toFixed(1));
    svg.append(svgEl("path", { d: "M" + up.join("L") + "L" + down.join("L") + "Z", class: "band", "data-points": band.length }));
    line(band, "p50", (p) => p.p50);
  }
  line(h.capacity, "cap", (p) => p.v);
  line(h.demand, "demand", (p) => p.v);
  svg.append(svgEl("line", { x1: x(h.to), x2: x(h.to), y1: T, y2: H - B, class: "now" }));
  svg.setAttribute("data-drawn", String(h.demand.length + band.length + h.capacity.length));
  return svg;
}

function card(lb, h) {
  const c = el("section", { class: "card", id: "lb-" + lb.lb, "data-lb": lb.lb, "data-phase": lb.phase });
  const head = el("div", { class: "head" });
  head.append(el("h2", {}, lb.lb));
  const badges = el("div");
  badges.append(el("span", { class: "badge " + lb.phase, "data-role": "phase" }, lb.phase));
  if (lb.paused) badges.append(el("span", { class: "badge on" }, "paused"));
  head.append(badges);
  c.append(head);
  const facts = el("div", { class: "facts" });
  const fact = (label, value) => { const d = el("div"); d.append(el("b", {}, value)); d.append(el("span", { class: "muted" }, label)); facts.append(d); };
  fact("demand, req/s", num(lb.demand));
  fact("forecast p90, req/s", lb.forecast ? num(lb.forecast.next.p90) : "–");
  fact("ready capacity, req/s", num(lb.capacity));
  fact("shadow share", lb.share + "%");
  c.append(facts);
  if (h) c.append(chart(h));
  c.append(el("p", { class: "why" }, explain(lb)));
  if (h && h.decisions.length) {
    c.append(el("p", { class: "muted" }, "Recent decisions"));
    const ol = el("ol", { class: "decisions" });
    for (const d of h.decisions.slice(0, 8)) ol.append(el("li", {}, sentence(d)));
    c.append(ol);
  }
  return c;
}

async function refresh() {
  try {
    const st = await get("/v1/lbs");
    const hb = st.heartbeat && !st.heartbeat.startsWith("0001") ? "last tick " + ago(st.heartbeat) : "no tick yet";
    document.getElementById("loop").textContent = `${st.lbs.length} load balancer${st.lbs.length === 1 ? "" : "s"} · ${hb} · ${st.ticks} ticks` + (st.error ? " · error: " + st.error : "");
    const sw = document.getElementById("switches");
    sw.replaceChildren();
    if (st.controls.dry_run) sw.append(el("span", { class: "badge on" }, "dry-run: plans only"));
    if (st.controls.kill_switch) sw.append(el("span", { class: "badge on" }, "kill switch on"));
    const hs = await Promise.all(st.lbs.map((l) => get("/v1/lbs/" + encodeURIComponent(l.lb) + "/history?hours=3").catch(() => null)));
    const main = document.getElementById("lbs");
    main.replaceChildren(...st.lbs.map((l, i) => card(l, hs[i])));
    document.body.setAttribute("data-ready", "true");
  } catch (e) {
    document.getElementById("loop").replaceChildren(el("span", { class: "err" }, String(e.message || e)));
  }
}

refresh();
setInterval(refresh, 10000);

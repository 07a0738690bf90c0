// GMK web view. Polls the node's admin endpoint — /ui/graph.json (the
// module/channel graph, laid out by the server: admin/webgraph.go) and
// /api/v1/trace (recent trace events) — once a second each, one request of
// each kind at a time, and redraws both as SVG. Plain script, no library.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const REFRESH_MS = 1000;
const TRACE_N = 400; // trace events drawn
const TABLE_N = 15; // newest events listed

// el creates an element (SVG when parent is an SVG element or ns is set),
// sets its attributes and text, and appends it to parent.
function el(tag, attrs, parent, text) {
  const svg = parent && parent.namespaceURI === SVG_NS || tag === "svg";
  const e = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// Human units, as the gmk command line prints them (cmd/gmk/node_format.go):
// 847, 8.4K, 12M; 3.5/s, 8.4K/s.
function trimZero(s) { return s.endsWith(".0") ? s.slice(0, -2) : s; }
function count(v) {
  const units = ["", "K", "M", "G", "T", "P"];
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  if (i === 0) return v.toFixed(0);
  return (v < 10 ? trimZero(v.toFixed(1)) : v.toFixed(0)) + units[i];
}
function rate(v) {
  if (v < 10) return trimZero(Math.max(v, 0).toFixed(1)) + "/s";
  return count(v) + "/s";
}

function setStatus(text, error) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = error ? "status error" : "status";
}

// ---- kernels ---------------------------------------------------------------

function drawKernels(g) {
  const box = document.getElementById("kernels");
  box.replaceChildren();
  for (const k of g.kernels) {
    const c = el("div", { class: "kcard", "data-kernel": k.id }, box);
    el("b", {}, c, k.id);
    el("span", {}, c, " " + (k.role || ""));
    el("div", { class: "num" }, c,
      `${k.workers} workers: ${k.active} active, ${k.stalled} stalled`);
    el("div", { class: "num" }, c,
      `${count(k.completed)} tasks · ${rate(k.rate)} · ${rate(k.err_rate)} errors · ${k.in_flight} in flight`);
  }
  if (g.cluster) drawCluster(box, g.cluster);
}

// drawCluster adds the node's cluster membership ([X5]) to the cards.
function drawCluster(box, cl) {
  const c = el("div", { class: "kcard cluster", "data-member": cl.self }, box);
  el("b", {}, c, "cluster member");
  el("span", {}, c, " " + (cl.self || "(not joined)"));
  const others = (cl.members || []).filter(m => m !== cl.self);
  el("div", { class: "num" }, c, `${(cl.members || []).length} members` + (others.length ? `: this one and ${others.join(", ")}` : ""));
}

// ---- the graph ---------------------------------------------------------------

function arrowDefs(svg) {
  const defs = el("defs", {}, svg);
  for (const [id, color] of [["arrow", "#5b6b82"], ["arrow-active", "#1a73e8"], ["arrow-bridge", "#e8710a"], ["arrow-cross", "#d93025"], ["arrow-members", "#9334e6"]]) {
    const m = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0 0 L10 5 L0 10 z", fill: color }, m);
  }
}

function edgeClass(e) {
  let c = "edge";
  if (e.bridge) c += " bridge";
  if (e.cross) c += " cross";
  if (e.members) c += " members";
  if (e.rate > 0) c += " active";
  if (e.drops > 0) c += " drops";
  return c;
}

function edgeLabel(e) {
  let s = `${e.channel} ${rate(e.rate)}`;
  if (e.depth > 0) s += ` · q ${e.depth}`;
  if (e.drops > 0) s += ` · ${count(e.drops)} dropped`;
  return s;
}

function drawEdges(svg, edges) {
  const paths = el("g", { class: "edges" }, svg);
  for (const e of edges) {
    const g = el("g", { class: edgeClass(e), "data-channel": e.channel, "data-kernel": e.kernel, "data-from": e.from, "data-to": e.to }, paths);
    const marker = e.members ? "arrow-members" : e.cross ? "arrow-cross" : e.bridge ? "arrow-bridge" : e.rate > 0 ? "arrow-active" : "arrow";
    const styled = e.cross || e.members; // a fixed dashed width: the dashes stay legible
    el("path", { d: e.path, "marker-end": `url(#${marker})`, "stroke-width": e.rate > 0 && !styled ? Math.min(1.4 + Math.log10(1 + e.rate), 5) : null }, g);
    el("title", {}, g, `${e.channel} (${e.kernel}): ${count(e.emits)} emitted, ${rate(e.rate)}, depth ${e.depth}`);
  }
}

function drawLabels(svg, edges) {
  const labels = el("g", { class: "labels" }, svg);
  for (const e of edges) {
    const g = el("g", { class: edgeClass(e) }, labels);
    el("text", { class: "elabel", "data-channel": e.channel, x: e.lx.toFixed(1), y: (e.ly - 4).toFixed(1), "text-anchor": "middle" }, g, edgeLabel(e));
  }
}

function nodeRates(n) {
  if (n.kind === "kernel") return "kernel";
  if (n.kind === "member") return `cluster member · ${rate(n.rate)}`;
  let s = `${rate(n.rate)} · ${count(n.ok)} ok`;
  if (n.fail > 0) s += ` · ${count(n.fail)} fail`;
  return s;
}

function drawNodes(svg, nodes) {
  const layer = el("g", { class: "nodes" }, svg);
  for (const n of nodes) {
    let c = `node ${n.kind}`;
    if (n.state && n.state !== "running") c += " " + n.state;
    if (n.rate > 0) c += " busy";
    const g = el("g", { class: c, "data-id": n.id, "data-kernel": n.kernel, "data-module": n.kind === "module" ? n.name : null, "data-member": n.kind === "member" ? n.name : null, transform: `translate(${n.x.toFixed(1)},${n.y.toFixed(1)})` }, layer);
    el("rect", { width: n.w.toFixed(1), height: n.h.toFixed(1), rx: n.kind === "kernel" ? 20 : n.kind === "member" ? 14 : 6 }, g);
    el("text", { class: "name", x: 10, y: 17 }, g, n.name);
    el("text", { class: "rates", x: 10, y: 33 }, g, nodeRates(n));
    el("title", {}, g, `${n.id} ${n.state || ""}`);
  }
}

function drawGraph(g) {
  const svg = document.getElementById("graph");
  svg.replaceChildren();
  svg.setAttribute("width", Math.ceil(g.width));
  svg.setAttribute("height", Math.ceil(g.height));
  svg.setAttribute("viewBox", `0 0 ${Math.ceil(g.width)} ${Math.ceil(g.height)}`);
  arrowDefs(svg);
  const bands = el("g", { class: "bands" }, svg);
  for (const k of g.kernels) {
    el("rect", { class: "band", "data-kernel": k.id, x: k.x, y: k.y, width: k.w, height: k.h, rx: 8 }, bands);
    el("text", { class: "band-title", x: k.x + 12, y: k.y + 20 }, bands, `${k.id}`);
    el("text", { class: "band-sub", x: k.x + 70, y: k.y + 20 }, bands, `${k.role || ""} · ${rate(k.rate)} · ${k.active}/${k.workers} workers active`);
  }
  drawEdges(svg, g.edges || []);
  drawNodes(svg, g.nodes || []);
  drawLabels(svg, g.edges || []);
}

// ---- the trace timeline ----------------------------------------------------

const PALETTE = ["#1a73e8", "#e8710a", "#188038", "#d93025", "#9334e6", "#12b5cb", "#f9ab00", "#5f6368", "#e52592", "#795548"];
function eventColor(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

function drawTimeline(evs) {
  const svg = document.getElementById("timeline");
  svg.replaceChildren();
  const W = 1200, labelW = 110, laneH = 22, top = 8;
  const lanes = [...new Set(evs.map(e => `${e.kernel} w${e.worker}`))].sort();
  const span = {};
  for (const e of evs) {
    const s = span[e.kernel] || (span[e.kernel] = { min: e.ts, max: e.ts });
    s.min = Math.min(s.min, e.ts); s.max = Math.max(s.max, e.ts);
  }
  lanes.forEach((l, i) => {
    el("rect", { class: "lane", x: labelW, y: top + i * laneH, width: W - labelW - 10, height: laneH - 4 }, svg);
    el("text", { class: "lane-label", x: 4, y: top + i * laneH + 13 }, svg, l);
  });
  const marks = el("g", { class: "events" }, svg);
  for (const e of evs) {
    const s = span[e.kernel], lane = lanes.indexOf(`${e.kernel} w${e.worker}`);
    const x = labelW + 2 + (s.max > s.min ? (e.ts - s.min) / (s.max - s.min) : 0.5) * (W - labelW - 16);
    const r = el("rect", { class: "ev", "data-event": e.event, x: x.toFixed(1), y: top + lane * laneH + 2, width: 3, height: laneH - 8, fill: eventColor(e.event) }, marks);
    el("title", {}, r, `${e.kernel} w${e.worker} ${e.event} ${e.type_name || e.type} ${e.module || ""}`);
  }
  let y = top + lanes.length * laneH + 14, x = labelW;
  for (const [k, s] of Object.entries(span)) {
    el("text", { class: "axis", x, y }, svg, `${k}: ${((s.max - s.min) / 1e6).toFixed(2)} ms`);
    x += 180;
  }
  y += 18; x = labelW;
  for (const name of [...new Set(evs.map(e => e.event))].sort()) {
    el("rect", { x, y: y - 9, width: 10, height: 10, fill: eventColor(name) }, svg);
    el("text", { class: "axis legend-item", x: x + 14, y }, svg, name);
    x += 24 + name.length * 7;
  }
  svg.setAttribute("height", y + 10);
  document.getElementById("trace-note").textContent = evs.length ? `(last ${evs.length} events)` : "(no trace events: raise a trace level, gmk trace)";
  drawEventTable(evs);
}

function drawEventTable(evs) {
  const body = document.querySelector("#events tbody");
  body.replaceChildren();
  for (const e of evs.slice(-TABLE_N).reverse()) {
    const tr = el("tr", { class: "event" }, body);
    for (const v of [e.kernel, e.worker, (e.ts / 1e6).toFixed(3) + " ms", e.event, e.type_name || e.type, e.module || "", `${e.arg0} ${e.arg1}`]) {
      el("td", {}, tr, String(v));
    }
  }
}

// ---- polling -----------------------------------------------------------------

async function refreshGraph() {
  const r = await fetch("graph.json", { cache: "no-store" });
  if (!r.ok) throw new Error(`graph: ${r.status}`);
  const g = await r.json();
  drawKernels(g);
  drawGraph(g);
  setStatus("updated " + new Date(g.time).toLocaleTimeString(), false);
}

async function refreshTrace() {
  const r = await fetch(`../api/v1/trace?n=${TRACE_N}`, { cache: "no-store" });
  if (!r.ok) throw new Error(`trace: ${r.status}`);
  const text = await r.text();
  drawTimeline(text.split("\n").filter(l => l.trim() !== "").map(l => JSON.parse(l)));
}

// poll runs fn now and again REFRESH_MS after each run ends: one request of
// a kind in flight at a time, however slow the node answers.
function poll(fn) {
  fn().catch(err => setStatus(`no answer from the node: ${err.message}`, true))
    .finally(() => setTimeout(() => poll(fn), REFRESH_MS));
}

poll(refreshGraph);
poll(refreshTrace);

// The console: each page fetches the REST API under /3/ and renders it (see PAGES at the end).
"use strict";

async function api(path, opts) {
  const r = await fetch(path, opts);
  const type = r.headers.get("Content-Type") || "";
  const body = type.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) {
    const err = new Error((body && body.error) || `${r.status} ${r.statusText}`);
    err.status = r.status;
    throw err;
  }
  return body;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const main = () => document.getElementById("main");

function fmtBytes(n) {
  if (n === null || n === undefined) return "";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function fmtNum(v) {
  if (v === null || v === undefined || v === "") return "";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(3) : String(+v.toPrecision(5));
}

function table(headers, rows, attrs) {
  return el("table", attrs || {},
    el("thead", {}, el("tr", {}, headers.map(h => el("th", {}, h)))),
    el("tbody", {}, rows));
}

function td(v, cls) { return el("td", { class: cls || (typeof v === "number" ? "num" : null) }, v instanceof Node ? v : fmtNum(v)); }

function showError(where, e) { where.replaceChildren(el("p", { class: "error", role: "alert" }, String(e.message || e))); }

// ---- Cloud -------------------------------------------------------------------------------
async function pageCloud(m) {
  m.replaceChildren(el("h1", {}, "Cloud"), el("p", { id: "cloud-summary" }), el("div", { id: "cloud-nodes" }));
  async function refresh() {
    const c = await api("/3/Cloud");
    document.getElementById("cloud-summary").textContent =
      `Cloud "${c.cloud_name}": ${c.cloud_size} node(s), version ${c.version}, membership epoch ${c.epoch}` +
      (c.consensus ? ", consensus" : ", forming");
    const rows = c.nodes.concat(c.dead_nodes || []).map(n => el("tr",
      { class: n.node_id === c.node_id ? "self" : null, "data-node-id": n.node_id },
      td(n.node_id), td(n.address), td(el("span", { class: n.healthy ? "ok" : "dead" }, n.health)),
      td(n.cores), td(n.nthreads), td(fmtBytes(n.free_mem), "num"), td(fmtBytes(n.max_mem), "num"),
      td(fmtBytes(n.bytes), "num"), td(n.keys), td(`${(n.last_seen_s || 0).toFixed(1)} s ago`, "num"), td(n.epoch)));
    document.getElementById("cloud-nodes").replaceChildren(table(
      ["node", "address", "health", "cores", "threads", "free memory", "max memory", "bytes held", "keys",
       "last heartbeat", "epoch"], rows, { id: "nodes" }));
  }
  await refresh();
  setInterval(() => refresh().catch(() => {}), 2000);
}

const PAGES = { cloud: pageCloud };

async function start() {
  const page = document.body.dataset.page;
  for (const a of document.querySelectorAll("nav a[data-nav]")) {
    if (a.dataset.nav === page || (a.dataset.nav + "s") === page.replace(/s?$/, "s") && page !== "cloud" && a.dataset.nav.startsWith(page)) a.classList.add("active");
  }
  const m = main();
  try {
    await (PAGES[page] || (() => { throw new Error(`no page ${page}`); }))(m);
  } catch (e) {
    showError(m, e);
  }
}

start();

// The console: each page fetches the REST API under /3/ and renders it (see PAGES at the end).
"use strict";

async function api(path, opts) {
  const r = await fetch(path, opts);
  const type = r.headers.get("Content-Type") || "";
  const body = type.startsWith("application/json") ? await r.json() : await r.text();
  if (r.status === 401 && document.body.dataset.page) {
    // the session ended (a node started with a token): log in again and come back here
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }
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
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// Replace an element's children; nulls (absent sections) are skipped, arrays flattened.
function fill(target, ...kids) {
  target.replaceChildren();
  for (const c of kids.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    target.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return target;
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

function showError(where, e) { fill(where, el("p", { class: "error", role: "alert" }, String(e.message || e))); }

// ---- Cloud -------------------------------------------------------------------------------
async function pageCloud(m) {
  fill(m, el("h1", {}, "Cloud"), el("p", { id: "cloud-summary" }), el("div", { id: "cloud-nodes" }));
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
    fill(document.getElementById("cloud-nodes"), table(
      ["node", "address", "health", "cores", "threads", "free memory", "max memory", "bytes held", "keys",
       "last heartbeat", "epoch"], rows, { id: "nodes" }));
  }
  await refresh();
  setInterval(() => refresh().catch(() => {}), 2000);
}

// ---- Jobs --------------------------------------------------------------------------------
function jobKind(j) { return (j.description || "").split(" ")[0]; }

function destLink(j) {
  if (!j.dest) return "";
  const kind = jobKind(j);
  const base = kind === "Parse" ? "/frames/" : kind === "Grid" ? "/grids/" : kind === "DeepLearning" ? "/models/" : null;
  return base && j.status === "DONE" ? el("a", { href: base + encodeURIComponent(j.dest) }, j.dest) : j.dest;
}

function progressBar(p, status) {
  const pct = Math.round((status === "DONE" ? 1 : p || 0) * 100);
  return el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
                     "aria-valuenow": String(pct), "data-progress": String(pct) },
    el("div", { class: "bar", style: `width: ${pct}%` }), el("span", { class: "label" }, `${pct}%`));
}

async function cancelJob(j, button) {
  button.disabled = true;
  try {
    await api(`/3/Jobs/${encodeURIComponent(j.job_id)}/cancel`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ node_id: j.node_id }) });
  } catch (e) {
    button.disabled = false;
    alert(`Cancel failed: ${e.message}`);
  }
}

function jobRows(jobs) {
  const rows = [];
  for (const j of jobs.slice().reverse()) {
    const sps = j.info && j.info.samples_per_second;
    const actions = j.status === "RUNNING"
      ? el("button", { class: "danger cancel", onclick: ev => cancelJob(j, ev.target) }, "Cancel") : "";
    rows.push(el("tr", { "data-job-id": j.job_id, "data-status": j.status },
      td(jobKind(j)), td(j.description), td(destLink(j)), td(el("span", { class: j.status }, j.status)),
      td(progressBar(j.progress, j.status)), td(sps ? Math.round(sps) : ""), td(`${(j.duration_s || 0).toFixed(1)} s`, "num"),
      td(j.node_id || ""), td(actions)));
    if (j.error) {
      rows.push(el("tr", { class: "job-error", "data-error-for": j.job_id },
        el("td", { colspan: "9", class: j.status === "CANCELLED" ? "muted" : "error" }, `${j.error_type || "Error"}: ${j.error}`)));
    }
  }
  return rows;
}

const JOB_HEADERS = ["kind", "description", "target key", "status", "progress", "samples/s", "elapsed", "node", ""];

function jobRowKey(row) { return row.dataset.jobId || `error:${row.dataset.errorFor}`; }

// Copy a freshly rendered row's cells into the row on the page, cell by cell where they differ.
// A running job's Cancel button stays the same element: replacing the table on every progress
// event (several a second) detached the button between a user's press and release, so the click
// never reached it.
function patchJobRow(row, fresh) {
  for (const name of ["data-status", "class"]) {
    const v = fresh.getAttribute(name);
    if (v === null) row.removeAttribute(name); else row.setAttribute(name, v);
  }
  const cells = Array.from(row.children), freshCells = Array.from(fresh.children);
  if (cells.length !== freshCells.length) { row.replaceChildren(...freshCells); return; }
  cells.forEach((cell, i) => {
    const f = freshCells[i];
    const keep = cell.querySelector("button.cancel") && f.querySelector("button.cancel");
    if (!keep && cell.outerHTML !== f.outerHTML) row.replaceChild(f, cell);
  });
}

function renderJobs(where, jobs) {
  if (!jobs.length) { fill(where, el("p", { class: "muted" }, "No jobs yet.")); return; }
  const fresh = jobRows(jobs);
  const body = where.querySelector("table#jobs > tbody");
  const rows = body ? Array.from(body.children) : [];
  if (!body || rows.length !== fresh.length || rows.some((r, i) => jobRowKey(r) !== jobRowKey(fresh[i]))) {
    fill(where, table(JOB_HEADERS, fresh, { id: "jobs" }));  // jobs came or went: a new table
    return;
  }
  rows.forEach((r, i) => patchJobRow(r, fresh[i]));
}

// Live job updates: server-sent events, falling back to polling if the stream breaks.
function followJobs(onJobs) {
  let source = null;
  try {
    source = new EventSource("/3/Jobs/events");
    source.onmessage = ev => onJobs(JSON.parse(ev.data).jobs);
    source.onerror = () => {};  // EventSource reconnects by itself
  } catch (e) {
    setInterval(() => api("/3/Jobs?all_nodes=true").then(r => onJobs(r.jobs)).catch(() => {}), 1000);
  }
  window.addEventListener("beforeunload", () => source && source.close());
}

async function pageJobs(m) {
  const list = el("div", { id: "job-list" });
  fill(m, el("h1", {}, "Jobs"), el("p", { class: "muted" }, "Every job of the cloud, updated live."), list);
  renderJobs(list, (await api("/3/Jobs?all_nodes=true")).jobs);
  followJobs(jobs => renderJobs(list, jobs));
}

// Follow one job until it ends: a progress bar and a status line, updated without a reload.
async function followJob(where, job) {
  const status = el("span", { class: "job-status", "data-job-id": job.job_id }, job.status);
  const bar = el("span", {}, progressBar(job.progress, job.status));
  const msg = el("span", { class: "muted" });
  fill(where, el("div", { class: "toolbar job-follow" }, bar, status, msg));
  let j = job;
  while (j.status === "RUNNING") {
    j = await api(`/3/Jobs/${encodeURIComponent(j.job_id)}?wait_s=1&node_id=${encodeURIComponent(j.node_id || "")}`);
    fill(bar, progressBar(j.progress, j.status));
    status.textContent = j.status;
    status.className = `job-status ${j.status}`;
    msg.textContent = j.progress_msg || "";
  }
  if (j.error) where.appendChild(el("p", { class: "error", role: "alert" }, j.error));
  return j;
}

// ---- Frames ------------------------------------------------------------------------------
async function uploadFile(file, dest, where) {
  const q = new URLSearchParams({ filename: file.name });
  if (dest) q.set("destination_frame", dest);
  const out = await api(`/3/PostFile?${q}`, { method: "POST", body: file });
  const j = await followJob(where, out.job);
  if (j.status !== "DONE") throw new Error(j.error || `parse ${j.status}`);
  return out.frame_id;
}

async function pageFrames(m) {
  const file = el("input", { type: "file", id: "upload-file", accept: ".csv,.gz,.zip,.parquet,.txt,.tsv" });
  const dest = el("input", { type: "text", id: "upload-dest", placeholder: "frame id (optional)" });
  const status = el("div", { id: "upload-status" });
  const button = el("button", { class: "primary", id: "upload-button", onclick: async () => {
    if (!file.files.length) { showError(status, "Choose a CSV or Parquet file first."); return; }
    button.disabled = true;
    try {
      const id = await uploadFile(file.files[0], dest.value.trim(), status);
      location.href = `/frames/${encodeURIComponent(id)}`;
    } catch (e) { showError(status, e); } finally { button.disabled = false; }
  } }, "Upload and parse");
  const list = el("div", { id: "frame-list" });
  fill(m, el("h1", {}, "Frames"),
    el("div", { class: "toolbar" }, el("label", { for: "upload-file" }, "Upload a CSV or Parquet file:"), file, dest, button),
    status, list);
  const frames = (await api("/3/Frames")).frames;
  fill(list, frames.length ? table(["frame", "rows", "columns", "size in memory"],
    frames.map(f => el("tr", { "data-frame-id": f.frame_id },
      td(el("a", { href: `/frames/${encodeURIComponent(f.frame_id)}` }, f.frame_id)), td(f.nrows), td(f.ncols),
      td(fmtBytes(f.nbytes), "num"))), { id: "frames" }) : el("p", { class: "muted" }, "No frames yet: upload one above."));
}

function topLevels(c, k) {
  if (c.type !== "enum" || !c.domain) return "";
  const pairs = c.domain.map((d, i) => [d, (c.level_counts || [])[i] || 0]).sort((a, b) => b[1] - a[1]).slice(0, k);
  return pairs.map(([d, n]) => `${d} (${n})`).join(", ");
}

function chartBox(kind, svg, attrs) {
  const box = el("div", Object.assign({ "data-chart": kind }, attrs || {}));
  box.innerHTML = svg;  // server-made SVG: its labels are <text> in the DOM
  return box;
}

async function pageFrame(m) {
  const id = decodeURIComponent(location.pathname.split("/").slice(2).join("/"));
  const [h, s] = await Promise.all([api(`/3/Frames/${encodeURIComponent(id)}`), api(`/3/Frames/${encodeURIComponent(id)}/summary`)]);
  const del = el("button", { class: "danger", id: "delete-frame", onclick: async () => {
    if (!confirm(`Delete frame ${id}?`)) return;
    try { await api(`/3/Frames/${encodeURIComponent(id)}`, { method: "DELETE" }); location.href = "/frames"; }
    catch (e) { alert(e.message); }
  } }, "Delete");
  const charts = el("div", { class: "charts", id: "frame-charts" }, el("p", { class: "muted" }, "Drawing histograms…"));
  const rows = el("div", { id: "frame-rows" });
  fill(m, 
    el("h1", {}, `Frame ${id}`),
    el("p", {}, `${h.nrows} rows, ${h.ncols} columns, ${h.nchunks} chunks`),
    el("div", { class: "toolbar" }, el("a", { class: "button", href: `/build?frame=${encodeURIComponent(id)}` }, "Build a model"), del),
    el("h2", {}, "Summary"),
    table(["column", "type", "min", "max", "mean", "sigma", "missing", "cardinality", "top levels"],
      s.columns.map(c => el("tr", { "data-column": c.name },
        td(c.name), td(c.type), td(c.type === "numeric" ? c.min : ""), td(c.type === "numeric" ? c.max : ""),
        td(c.type === "numeric" ? c.mean : ""), td(c.type === "numeric" ? c.sigma : ""), td(c.missing),
        td(c.cardinality === null ? "" : c.cardinality), td(topLevels(c, 5)))), { id: "summary" }),
    el("h2", {}, "Histograms"), charts,
    el("h2", {}, "First rows"), rows);
  const [ch, data] = await Promise.all([api(`/3/Frames/${encodeURIComponent(id)}/charts`),
                                        api(`/3/Frames/${encodeURIComponent(id)}/rows?nrows=10`)]);
  fill(charts, ...Object.entries(ch.columns).map(([col, svg]) =>
    chartBox(svg.includes("chart-histogram") ? "histogram" : "levels", svg, { "data-column": col })));
  const n = data.nrows;
  fill(rows, table(data.columns.map(c => c.name),
    Array.from({ length: n }, (_, i) => el("tr", {}, data.columns.map(c => td(c.values[i] === null ? "NA" : c.values[i])))),
    { id: "rows" }));
}

// ---- Models ------------------------------------------------------------------------------
function headline(h) { return h ? `${h.metric} ${fmtNum(h.value)} (${h.on})` : ""; }

async function pageModels(m) {
  const models = (await api("/3/Models")).models;
  fill(m, el("h1", {}, "Models"),
    el("div", { class: "toolbar" }, el("a", { class: "button", href: "/build" }, "Build a model")),
    models.length ? table(["model", "kind", "response", "training frame", "metric"],
      models.map(x => el("tr", { "data-model-id": x.model_id },
        td(el("a", { href: `/models/${encodeURIComponent(x.model_id)}` }, x.model_id)), td(x.model_category),
        td(x.response_column || ""),
        td(x.training_frame ? el("a", { href: `/frames/${encodeURIComponent(x.training_frame)}` }, x.training_frame) : ""),
        td(headline(x.headline)))), { id: "models" }) : el("p", { class: "muted" }, "No models yet."));
}

const EXPORTS = [["java", "Java model (POJO)"], ["onnx", "ONNX"], ["python", "Python module"]];
const METRIC_KEYS = ["mse", "rmse", "logloss", "classification_error", "mean_per_class_error", "auc", "r2", "mae",
                     "mean_residual_deviance", "nobs"];

function metricsTable(model) {
  const sources = [["training", model.training_metrics], ["validation", model.validation_metrics],
                   ["cross-validation", model.cross_validation_metrics]].filter(([, v]) => v && Object.keys(v).length);
  const keys = METRIC_KEYS.filter(k => sources.some(([, v]) => typeof v[k] === "number"));
  return table(["metric", ...sources.map(([n]) => n)],
    keys.map(k => el("tr", {}, td(k), sources.map(([, v]) => td(v[k])))), { id: "metrics" });
}

function confusionMatrix(metrics) {
  const cm = metrics && metrics.confusion_matrix;
  if (!cm) return null;
  const rows = cm.matrix.map((r, i) => {
    const total = r.reduce((a, b) => a + b, 0);
    const err = total ? (total - r[i]) / total : 0;
    return el("tr", {}, el("th", {}, cm.domain[i]), r.map(v => td(v)), td(fmtNum(err), "num"), td(`${total - r[i]} / ${total}`));
  });
  const colTotals = cm.domain.map((_, j) => cm.matrix.reduce((a, r) => a + r[j], 0));
  rows.push(el("tr", {}, el("th", {}, "Totals"), colTotals.map(v => td(v)), td(""), td("")));
  return el("table", { id: "confusion-matrix" },
    el("thead", {}, el("tr", {}, el("th", {}, "actual \\ predicted"), cm.domain.map(d => el("th", {}, d)), el("th", {}, "Error"), el("th", {}, "Rate"))),
    el("tbody", {}, rows));
}

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

function paramsTable(params, defaults, givenNames) {
  // Changed: set by the user to something other than H2O's default. Values the node filled in
  // (a drawn seed, per-layer dropout ratios) are not changes.
  const byName = Object.fromEntries(defaults.map(d => [d.name, d]));
  const given = new Set(givenNames || []);
  const rows = Object.entries(params).filter(([k]) => k in byName).map(([k, v]) => {
    const changed = (given.size === 0 || given.has(k)) && !same(v, byName[k].default);
    return el("tr", { class: changed ? "changed" : null, "data-param": k, "data-changed": changed ? "true" : "false" },
      td(k), td(typeof v === "object" && v !== null ? JSON.stringify(v) : v),
      td(changed ? (byName[k].default === null ? "(none)" : JSON.stringify(byName[k].default)) : ""));
  });
  rows.sort((a, b) => (b.dataset.changed === "true") - (a.dataset.changed === "true"));
  return table(["parameter", "value", "default (where changed)"], rows, { id: "parameters" });
}

function diagnosticsTable(diag) {
  const keys = ["layer", "units", "type", "dropout", "mean_rate", "rate_rms", "momentum", "mean_weight", "weight_rms", "mean_bias", "bias_rms"];
  return table(keys, diag.map(d => el("tr", {}, keys.map(k => td(d[k] === undefined ? "" : d[k])))), { id: "diagnostics" });
}

function cvSummaryTable(s) {
  const folds = Object.keys(s).filter(k => k.startsWith("cv_"));
  return table(["metric", "mean", "sd", ...folds],
    s.metric.map((name, i) => el("tr", {}, td(name), td(s.mean[i]), td(s.sd[i]), folds.map(f => td(s[f][i])))), { id: "cv-summary" });
}

async function pageModel(m) {
  const id = decodeURIComponent(location.pathname.split("/").slice(2).join("/"));
  const enc = encodeURIComponent(id);
  const [model, chartsData, params, frames] = await Promise.all([
    api(`/3/Models/${enc}`), api(`/3/Models/${enc}/charts`),
    api("/3/ModelBuilders/deeplearning/parameters"), api("/3/Frames")]);
  const metrics = chartsData.metrics;
  const preferred = ["logloss", "rmse", "mse", "classification_error"].find(k => metrics.includes(k)) || metrics[0];
  const select = el("select", { id: "metric-select", "aria-label": "metric" },
    metrics.map(k => el("option", { value: k, selected: k === preferred }, k)));
  const history = chartBox("scoring-history", metrics.length ? chartsData.scoring_history[preferred] : "<p>No scoring history.</p>",
                           { "data-metric": preferred || "" });
  select.addEventListener("change", () => {
    history.innerHTML = chartsData.scoring_history[select.value];
    history.dataset.metric = select.value;
  });
  const predictFrame = el("select", { id: "predict-frame", "aria-label": "frame to predict on" },
    frames.frames.map(f => el("option", { value: f.frame_id, selected: f.frame_id === model.training_frame }, f.frame_id)));
  const predictOut = el("span", { id: "predict-result" });
  const predictButton = el("button", { class: "primary", id: "predict-button", onclick: async () => {
    predictButton.disabled = true;
    fill(predictOut, "Predicting…");
    try {
      const r = await api(`/3/Predictions/models/${enc}/frames/${encodeURIComponent(predictFrame.value)}`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      fill(predictOut, "Predictions: ", el("a", { href: `/frames/${encodeURIComponent(r.frame_id)}`, id: "prediction-link" }, r.frame_id));
    } catch (e) { showError(predictOut, e); } finally { predictButton.disabled = false; }
  } }, "Predict");
  const cmSource = model.validation_metrics && model.validation_metrics.confusion_matrix ? "validation" : "training";
  const cm = confusionMatrix(cmSource === "validation" ? model.validation_metrics : model.training_metrics);
  const meta = [["kind", model.model_category], ["status", model.status], ["response", model.response_column || "(autoencoder)"],
    ["training frame", model.training_frame ? el("a", { href: `/frames/${encodeURIComponent(model.training_frame)}` }, model.training_frame) : ""],
    ["validation frame", model.validation_frame || ""], ["layers", model.layers.join(" → ")],
    ["epochs", model.epochs_trained], ["samples", model.samples_trained], ["run time", `${fmtNum(model.run_time)} s`]];
  fill(m, 
    el("h1", {}, `Model ${id}`),
    el("table", { class: "meta", id: "model-meta" }, el("tbody", {}, meta.map(([k, v]) => el("tr", {}, td(k), td(v))))),
    el("div", { class: "toolbar", id: "downloads" }, "Download:",
      EXPORTS.map(([fmt, label]) => el("a", { class: "button", href: `/3/Models/${enc}/${fmt}`, download: "", "data-format": fmt }, label))),
    el("div", { class: "toolbar" }, "Predict on", predictFrame, predictButton, predictOut),
    el("h2", {}, "Scoring history"), el("div", { class: "toolbar" }, el("label", { for: "metric-select" }, "Metric:"), select), history,
    el("h2", {}, "Variable importances"),
    chartsData.varimp ? chartBox("varimp", chartsData.varimp)
      : el("p", { class: "muted" }, "Not computed (train with variable_importances=true)."),
    el("h2", {}, "Metrics"), metricsTable(model),
    cm ? el("h2", {}, `Confusion matrix (${cmSource})`) : null, cm,
    model.cross_validation_metrics_summary ? el("h2", {}, "Cross-validation summary") : null,
    model.cross_validation_metrics_summary ? cvSummaryTable(model.cross_validation_metrics_summary) : null,
    model.cross_validation_models && model.cross_validation_models.length
      ? el("p", {}, "Fold models: ", model.cross_validation_models.map((x, i) => [i ? ", " : "", el("a", { href: `/models/${encodeURIComponent(x)}` }, x)])) : null,
    el("h2", {}, "Per-layer diagnostics"), diagnosticsTable(model.diagnostics || []),
    el("h2", {}, "Parameters"), el("p", { class: "muted" }, "Parameters changed from their default are marked and listed first."),
    paramsTable(model.params, params.parameters, model.given_params));
}

// ---- Grids -------------------------------------------------------------------------------
async function pageGrids(m) {
  const grids = (await api("/3/Grids")).grids;
  fill(m, el("h1", {}, "Grids"),
    grids.length ? table(["grid", "hyper-parameters", "models", "failures", "status"],
      grids.map(g => el("tr", { "data-grid-id": g.grid_id },
        td(el("a", { href: `/grids/${encodeURIComponent(g.grid_id)}` }, g.grid_id)), td((g.hyper_names || []).join(", ")),
        td(g.models), td(g.failures), td(g.status || ""))), { id: "grids" }) : el("p", { class: "muted" }, "No grids yet."));
}

function sortableTable(headers, rows, id) {
  // rows: [{cells: [...values], tr: <tr>}]; clicking a header sorts by it, again reverses.
  const tbody = el("tbody", {}, rows.map(r => r.tr));
  const ths = headers.map((h, i) => el("th", { class: "sortable", "data-sort-key": h, tabindex: "0",
    onclick: () => {
      const asc = !ths[i].classList.contains("sorted-asc");
      ths.forEach(t => t.classList.remove("sorted-asc", "sorted-desc"));
      ths[i].classList.add(asc ? "sorted-asc" : "sorted-desc");
      rows.sort((a, b) => {
        const x = a.cells[i], y = b.cells[i];
        const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      fill(tbody, ...rows.map(r => r.tr));
    } }, h));
  return el("table", { id }, el("thead", {}, el("tr", {}, ths)), tbody);
}

async function pageGrid(m) {
  const id = decodeURIComponent(location.pathname.split("/").slice(2).join("/"));
  const g = await api(`/3/Grids/${encodeURIComponent(id)}`);
  const hyper = g.hyper_names || [];
  const source = g.metrics_source;
  const metricNames = METRIC_KEYS.filter(k => k !== "nobs" && g.models.some(x => typeof ((x.metrics || {})[source] || {})[k] === "number"));
  const rows = g.models.map(x => {
    const mt = (x.metrics || {})[source] || {};
    const cells = [x.model_id, ...hyper.map(h => JSON.stringify(x.hyper[h])), ...metricNames.map(k => mt[k])];
    const tr = el("tr", { "data-model-id": x.model_id },
      td(el("a", { href: `/models/${encodeURIComponent(x.model_id)}` }, x.model_id)),
      hyper.map(h => td(JSON.stringify(x.hyper[h]))), metricNames.map(k => td(mt[k] === undefined ? "" : mt[k])));
    return { cells, tr };
  });
  fill(m, el("h1", {}, `Grid ${id}`),
    el("p", {}, `${g.models.length} models; sorted by ${g.sort_by} (${g.decreasing ? "decreasing" : "increasing"}) on ${source} metrics. Click a column to sort.`),
    sortableTable(["model", ...hyper, ...metricNames], rows, "grid-models"),
    (g.failures || []).length ? el("h2", {}, "Failures") : null,
    (g.failures || []).length ? table(["hyper-parameters", "error"], g.failures.map(f => el("tr", {}, td(JSON.stringify(f.hyper)), td(f.error || "")))) : null);
}

// ---- Build a model -----------------------------------------------------------------------
const FORM_SKIP = new Set(["checkpoint", "best_model_key", "fold_column", "weights_column", "ignored_columns", "sparse", "col_major"]);

function paramInput(p) {
  const id = `param-${p.name}`;
  if (p.type === "boolean" && p.default === null) {  // unset: the node decides (classification)
    return el("select", { id, name: p.name }, el("option", { value: "" }, "(auto)"),
      el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
  }
  if (p.type === "boolean") return el("input", { type: "checkbox", id, name: p.name, checked: !!p.default });
  if (p.choices) return el("select", { id, name: p.name }, p.choices.map(c => el("option", { value: c, selected: c === p.default }, c)));
  const v = p.default === null ? "" : Array.isArray(p.default) ? p.default.join(", ") : String(p.default);
  return el("input", { type: "text", id, name: p.name, value: v, size: "14" });
}

function readParam(p, input) {
  if (p.type === "boolean" && p.default === null) return input.value === "" ? null : input.value === "true";
  if (p.type === "boolean") return input.checked;
  if (p.choices) return input.value;
  const raw = input.value.trim();
  if (raw === "") return null;
  const asNumber = s => (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) ? Number(s) : s);
  if (p.type === "list") return raw.replace(/^\[|\]$/g, "").split(/[\s,]+/).filter(Boolean).map(asNumber);
  if (p.type === "integer" || p.type === "number") return asNumber(raw);
  return raw;
}

async function pageBuild(m) {
  const want = new URLSearchParams(location.search).get("frame");
  const [frames, spec] = await Promise.all([api("/3/Frames"), api("/3/ModelBuilders/deeplearning/parameters")]);
  const ids = frames.frames.map(f => f.frame_id);
  const training = el("select", { id: "training-frame", name: "training_frame" }, ids.map(f => el("option", { value: f, selected: f === want }, f)));
  const validation = el("select", { id: "validation-frame", name: "validation_frame" }, el("option", { value: "" }, "(none)"), ids.map(f => el("option", { value: f }, f)));
  const response = el("select", { id: "response-column", name: "y" });
  const columns = el("div", { class: "columns-pick", id: "predictors" });
  const formError = el("div", { id: "form-error" });
  const follow = el("div", { id: "build-job" });
  const fields = spec.parameters.filter(p => !FORM_SKIP.has(p.name));
  const inputs = {};
  const errors = {};
  const paramRows = fields.map(p => {
    inputs[p.name] = paramInput(p);
    errors[p.name] = el("span", { class: "field-error", "data-error-for": p.name, role: "alert" });
    return el("div", { class: "form-row", "data-param": p.name },
      el("label", { for: `param-${p.name}` }, p.name), inputs[p.name], errors[p.name], el("small", { class: "help" }, p.help));
  });
  async function loadColumns() {
    if (!training.value) return;
    const h = await api(`/3/Frames/${encodeURIComponent(training.value)}`);
    const last = h.names[h.names.length - 1];
    fill(response, el("option", { value: "" }, "(none: autoencoder)"), ...h.names.map(n => el("option", { value: n, selected: n === last }, n)));
    const pick = () => fill(columns, ...h.names.filter(n => n !== response.value).map(n =>
      el("label", { style: "display:block" }, el("input", { type: "checkbox", value: n, checked: true, name: "x" }), ` ${n}`)));
    response.onchange = pick;
    pick();
  }
  training.addEventListener("change", () => loadColumns().catch(e => showError(formError, e)));
  const start = el("button", { class: "primary", id: "build-button", type: "submit" }, "Build model");
  const form = el("form", { id: "build-form", onsubmit: async ev => {
    ev.preventDefault();
    Object.values(errors).forEach(e => { e.textContent = ""; });
    formError.replaceChildren();
    const params = {};
    for (const p of fields) {
      const v = readParam(p, inputs[p.name]);
      if (!same(v, p.default)) params[p.name] = v;
    }
    const body = { training_frame: training.value, params,
                   x: [...columns.querySelectorAll("input:checked")].map(i => i.value) };
    if (response.value) body.y = response.value;
    if (validation.value) body.validation_frame = validation.value;
    start.disabled = true;
    try {
      const out = await api("/3/ModelBuilders/deeplearning", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const j = await followJob(follow, out.job);
      if (j.status === "DONE") {
        follow.appendChild(el("p", {}, "Model built: ", el("a", { href: `/models/${encodeURIComponent(out.model_id)}`, id: "model-link" }, out.model_id)));
      }
    } catch (e) {
      // The node names the parameter it refused; show its message next to that field.
      const named = fields.map(p => p.name).filter(n => new RegExp(`'${n}'|\\b${n}\\b`).test(e.message))
        .sort((a, b) => b.length - a.length)[0];
      if (named) { errors[named].textContent = e.message; inputs[named].focus(); }
      showError(formError, e);
    } finally { start.disabled = false; }
  } },
    el("div", { class: "form-row" }, el("label", { for: "training-frame" }, "training frame"), training),
    el("div", { class: "form-row" }, el("label", { for: "validation-frame" }, "validation frame"), validation),
    el("div", { class: "form-row" }, el("label", { for: "response-column" }, "response column (y)"), response),
    el("div", { class: "form-row" }, el("label", {}, "predictor columns (x)"), columns),
    el("h2", {}, "Parameters"), el("p", { class: "muted" }, "H2O's defaults are filled in; only the ones you change are sent."),
    el("div", { class: "params" }, paramRows),
    el("div", { class: "toolbar" }, start), formError);
  fill(m, el("h1", {}, "Build a deep learning model"),
    ids.length ? form : el("p", { class: "muted" }, "No frames yet: upload one on the Frames page first."), follow);
  await loadColumns();
}

// ---- start -------------------------------------------------------------------------------
const PAGES = { cloud: pageCloud, jobs: pageJobs, frames: pageFrames, frame: pageFrame, models: pageModels,
                model: pageModel, grids: pageGrids, grid: pageGrid, build: pageBuild };
const NAV_OF = { frame: "frames", model: "models", grid: "grids" };

async function start() {
  const page = document.body.dataset.page;
  const nav = NAV_OF[page] || page;
  for (const a of document.querySelectorAll("nav a[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
  api("/3/Cloud").then(c => {
    document.getElementById("served-by").textContent = `served by ${c.node_id} · cloud ${c.cloud_name} (${c.cloud_size})`;
  }).catch(() => {});
  const m = main();
  try {
    await PAGES[page](m);
  } catch (e) {
    showError(m, e);
  }
}

start();

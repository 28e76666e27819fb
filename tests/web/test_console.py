"""The web console in a real headless Chromium (Debian's, via Playwright's executable_path), on
one node and on a 3-node cloud whose pages are served by a node other than the one the data was
loaded through. Each test saves screenshots under test-screenshots/ (not committed)."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from tests.web.browser import TIMEOUT_MS
from tests.web.rest import ok, wait_job

NAV = ["Cloud", "Jobs", "Frames", "Models", "Grids"]
# Every test here needs the module's cloud with a frame, a model and a grid (~20 s to set up).
pytestmark = pytest.mark.slow


def _csv(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"sepal": rng.normal(5, 1, n), "petal": rng.uniform(0, 3, n),
                       "color": rng.choice(["red", "green", "blue"], n)})
    df["species"] = np.where(df.sepal + (df.color == "red") * 1.5 > 5.4, "virginica", "setosa")
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


@pytest.fixture(scope="module", params=["cloud1", "cloud3"])
def env(request):
    """A frame, a model (cross-validated, with variable importances) and a grid, loaded through the
    first node; pages are read from the last node (the same node on a 1-node cloud)."""
    cloud = request.getfixturevalue(request.param)
    load, serve = cloud.nodes[0].url, cloud.nodes[-1].url
    tag = request.param
    out = ok(f"{load}/3/PostFile?filename=console.csv&destination_frame=console_{tag}.hex", "POST", data=_csv(400, 1))
    assert wait_job(load, out["job"])["status"] == "DONE"
    frame = out["frame_id"]
    out = ok(f"{load}/3/ModelBuilders/deeplearning", "POST", {
        "training_frame": frame, "y": "species",
        "params": {"model_id": f"console_model_{tag}", "hidden": [6], "epochs": 4, "seed": 7,
                   "variable_importances": True, "score_each_iteration": True, "nfolds": 2}})
    assert wait_job(load, out["job"])["status"] == "DONE"
    grid = ok(f"{load}/99/Grid/deeplearning", "POST", {
        "training_frame": frame, "y": "species", "grid_id": f"console_grid_{tag}",
        "params": {"epochs": 1, "seed": 3}, "hyper_params": {"hidden": [[2], [4], [8]]}})
    assert wait_job(load, grid["job"])["status"] == "DONE"
    return {"tag": tag, "cloud": cloud, "load": load, "url": serve, "frame": frame,
            "model": out["model_id"], "grid": grid["grid_id"], "size": len(cloud.nodes)}


def _nav_ok(p) -> None:
    nav = p.locator("nav#nav")
    for name in NAV:
        assert nav.get_by_role("link", name=name, exact=True).is_visible()


def test_every_page_loads_without_console_errors(env, page):
    base, tag = env["url"], env["tag"]
    pages = {"cloud": "/", "jobs": "/jobs", "frames": "/frames", "frame": f"/frames/{env['frame']}",
             "models": "/models", "model": f"/models/{env['model']}", "grids": "/grids",
             "grid": f"/grids/{env['grid']}", "build": f"/build?frame={env['frame']}"}
    for name, path in pages.items():
        p = page.goto(base + path)
        p.locator("main h1").wait_for()
        p.wait_for_function("() => !document.querySelector('main .loading')")
        # A page that failed to load shows an alert; a failed job's row on the Jobs page is the
        # cloud's history (earlier tests in the session fail jobs on purpose), not a page error.
        # (The build form's per-field alert slots stay empty until a value is refused.)
        alerts = [t for t in p.locator("main [role=alert]").all_inner_texts() if t.strip()]
        assert not alerts, (name, alerts)
        # The rendered page, less the error rows of jobs other tests failed on purpose: their
        # messages are the node's words (a refused value may be quoted as JSON null), not rendering.
        text = p.evaluate("""() => { const m = document.querySelector('main').cloneNode(true);
            m.querySelectorAll('tr.job-error').forEach(r => r.remove());
            m.querySelectorAll('td, th, p, li, h1, h2, h3, dt, dd').forEach(e => e.append(' '));
            return m.textContent; }""")
        bad = re.search(r"\bnull\b|undefined|\[object |NaN", text)
        assert not bad, (name, text[max(0, bad.start() - 300):bad.end() + 100])
        _nav_ok(p)
        # every list links to its items by id
        if name == "frames":
            p.locator(f"#frames a[href='/frames/{env['frame']}']").wait_for()
        if name == "models":
            p.locator(f"#models a[href='/models/{env['model']}']").wait_for()
        if name == "grids":
            p.locator(f"#grids a[href='/grids/{env['grid']}']").wait_for()
        if name == "frame":
            p.locator("[data-chart=histogram] svg").first.wait_for()
        if name == "model":
            p.locator("[data-chart=varimp] svg").wait_for()
        page.shot(f"{tag}-{name}")
    page.goto(base + "/flow/index.html").locator("#nodes").wait_for()
    assert page.page.url.rstrip("/") == base
    page.assert_no_errors()


def test_cloud_page_shows_every_node_and_marks_this_one(env, page):
    """The same cloud from any node: every node's page lists the same members, each its own marked."""
    members = None
    for n in env["cloud"].nodes:
        p = page.goto(n.url + "/")
        rows = p.locator("#nodes tbody tr")
        rows.nth(env["size"] - 1).wait_for()
        me = ok(n.url + "/3/Cloud")["node_id"]
        ids = sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.nodeId)"))
        members = members or ids
        assert ids == members and len(ids) == env["size"]
        assert p.locator("#nodes tr.self").get_attribute("data-node-id") == me
        head = p.locator("#nodes thead").inner_text()
        for col in ("address", "health", "cores", "bytes held", "keys", "last heartbeat", "epoch"):
            assert col in head
    page.shot(f"{env['tag']}-cloud-marked")
    page.assert_no_errors()


def test_upload_csv_shows_summary_and_histogram(env, page, tmp_path):
    f = tmp_path / f"upload_{env['tag']}.csv"
    f.write_bytes(_csv(150, 9))
    p = page.goto(env["url"] + "/frames")
    p.set_input_files("#upload-file", str(f))
    p.fill("#upload-dest", f"uploaded_{env['tag']}.hex")
    p.click("#upload-button")
    p.wait_for_url(re.compile(rf"/frames/uploaded_{env['tag']}\.hex$"), timeout=TIMEOUT_MS)
    p.locator("#summary tbody tr[data-column=sepal]").wait_for()
    summary = ok(f"{env['url']}/3/Frames/uploaded_{env['tag']}.hex/summary")["columns"]
    sepal = next(c for c in summary if c["name"] == "sepal")
    row = p.locator("#summary tr[data-column=sepal]").inner_text()
    assert "numeric" in row and f"{sepal['mean']:.5g}" in row and f"{sepal['max']:.5g}" in row
    assert "red" in p.locator("#summary tr[data-column=color]").inner_text()
    hist = p.locator("[data-chart=histogram][data-column=sepal]")
    hist.locator("svg rect.bar").first.wait_for()
    counts = [int(v) for v in hist.locator("rect.bar").evaluate_all("rs => rs.map(r => r.dataset.value)")]
    assert counts == sepal["histogram"]["counts"] and sum(counts) == 150
    assert "sepal" in hist.locator("svg text").all_text_contents()  # the label is text in the DOM
    assert p.locator("#rows tbody tr").count() == 10
    page.shot(f"{env['tag']}-uploaded-frame")
    page.assert_no_errors()


def test_build_model_from_the_page_and_follow_it(env, page):
    p = page.goto(env["url"] + f"/build?frame={env['frame']}")
    p.locator("#predictors input").first.wait_for()
    p.select_option("#response-column", "species")
    p.select_option("#validation-frame", env["frame"])
    p.fill("#param-hidden", "5")
    p.fill("#param-epochs", "-2")  # refused by the node, shown next to the field
    page.allow(r"400|/3/ModelBuilders/deeplearning")
    p.click("#build-button")
    err = p.locator("[data-error-for=epochs]")
    err.filter(has_text="epochs").wait_for()
    page.shot(f"{env['tag']}-build-refused")
    p.fill("#param-epochs", "30")
    p.fill("#param-model_id", f"built_{env['tag']}")
    p.check("#param-variable_importances")
    p.check("#param-score_each_iteration")
    p.evaluate("() => { window.__noReload = true; }")
    p.click("#build-button")
    p.locator("#build-job .progress").first.wait_for()
    page.shot(f"{env['tag']}-build-running")
    p.wait_for_function("() => { const s = document.querySelector('#build-job .job-status');"
                        " return s && s.textContent !== 'RUNNING'; }", timeout=4 * TIMEOUT_MS)
    assert p.locator("#build-job .job-status").inner_text() == "DONE", p.locator("#build-job").inner_text()
    assert p.locator("#build-job .progress").get_attribute("aria-valuenow") == "100"
    assert p.evaluate("() => window.__noReload === true")  # the bar moved without a reload
    p.click("#model-link")
    p.wait_for_url(re.compile(rf"/models/built_{env['tag']}$"))
    model = ok(f"{env['url']}/3/Models/built_{env['tag']}")
    history = p.locator("[data-chart=scoring-history] svg")
    history.wait_for()
    assert "logloss" in history.locator("text.axis-label").all_text_contents()
    points = history.locator("circle[data-series='training logloss']").evaluate_all("cs => cs.map(c => +c.dataset.value)")
    assert points == pytest.approx([r["training_logloss"] for r in model["scoring_history"]])
    valid = history.locator("circle[data-series='validation logloss']").evaluate_all("cs => cs.map(c => +c.dataset.value)")
    assert valid == pytest.approx([r["validation_logloss"] for r in model["scoring_history"]])
    p.select_option("#metric-select", "classification_error")
    assert "classification_error" in p.locator("[data-chart=scoring-history] svg text.axis-label").all_text_contents()
    bars = p.locator("[data-chart=varimp] rect.bar").evaluate_all(
        "rs => rs.map(r => [r.dataset.label, +r.dataset.value])")
    vi = model["variable_importances"]
    assert dict(bars) == pytest.approx(dict(zip(vi["variable"], vi["scaled_importance"])))
    assert set(vi["variable"]) <= set(p.locator("[data-chart=varimp] svg text.bar-label").all_text_contents())
    changed = p.locator("#parameters tr[data-changed=true]").evaluate_all("rs => rs.map(r => r.dataset.param)")
    assert set(changed) == {"model_id", "hidden", "epochs", "variable_importances", "score_each_iteration"}
    assert p.locator("#confusion-matrix").is_visible() and p.locator("#diagnostics tbody tr").count() == 3
    page.shot(f"{env['tag']}-built-model")
    page.assert_no_errors()


def test_model_page_predicts_and_downloads(env, page):
    p = page.goto(env["url"] + f"/models/{env['model']}")
    p.locator("[data-chart=varimp] svg").wait_for()
    assert p.locator("#cv-summary").is_visible()
    formats = p.locator("#downloads a").evaluate_all("as => as.map(a => a.dataset.format)")
    assert formats == ["java", "onnx", "python"]
    with p.expect_download() as dl:
        p.click("#downloads a[data-format=java]")
    assert dl.value.suggested_filename.endswith(".java")
    p.select_option("#predict-frame", env["frame"])
    p.click("#predict-button")
    p.click("#prediction-link")
    p.locator("#summary tr[data-column=predict]").wait_for()
    assert "virginica" in p.locator("#summary tr[data-column=predict]").inner_text() or \
        "setosa" in p.locator("#summary tr[data-column=predict]").inner_text()
    page.shot(f"{env['tag']}-prediction-frame")
    page.assert_no_errors()


def test_cancel_a_running_job_from_the_jobs_page(env, page):
    load = env["load"]
    out = ok(f"{load}/3/ModelBuilders/deeplearning", "POST", {
        "training_frame": env["frame"], "y": "species",
        "params": {"model_id": f"endless_{env['tag']}", "hidden": [64, 64], "epochs": 1e7}})
    job = out["job"]
    try:
        p = page.goto(env["url"] + "/jobs")
        row = p.locator(f"#jobs tr[data-job-id='{job['job_id']}']")
        button = row.locator("button.cancel")
        button.wait_for(timeout=TIMEOUT_MS)
        # Progress events patch the row: the button a user aims at stays the same element
        # (a table rebuilt on every event detached it between press and release).
        handle = button.element_handle()
        before = row.inner_text()
        p.wait_for_function(  # an update came (the elapsed time, at least, moved)
            """([id, before]) => {
                 const r = document.querySelector(`#jobs tr[data-job-id='${id}']`);
                 return r && r.innerText !== before; }""",
            arg=[job["job_id"], before], timeout=TIMEOUT_MS)
        assert handle.evaluate("b => b.isConnected"), "the Cancel button was replaced by an update"
        button.click()
        # The node's word first (a failed cancel or a job that ended otherwise is named here),
        # then the page, which must show it without a reload.
        ended = wait_job(load, job, timeout=TIMEOUT_MS / 1000)
        assert ended["status"] == "CANCELLED", ended
        p.locator(f"#jobs tr[data-job-id='{job['job_id']}'][data-status=CANCELLED]").wait_for(timeout=TIMEOUT_MS)
        assert "CANCELLED" in p.locator(f"#jobs tr[data-job-id='{job['job_id']}']").inner_text()
        page.shot(f"{env['tag']}-jobs-cancelled")
    finally:
        ok(f"{load}/3/Jobs/{job['job_id']}/cancel", "POST", {})
    page.assert_no_errors()


def test_sort_a_grid(env, page):
    p = page.goto(env["url"] + f"/grids/{env['grid']}")
    p.locator("#grid-models tbody tr").nth(2).wait_for()
    header = p.locator("#grid-models th[data-sort-key=logloss]")

    def column() -> list[float]:
        i = p.locator("#grid-models th").evaluate_all("ths => ths.map(t => t.dataset.sortKey)").index("logloss")
        return [float(t) for t in p.locator(f"#grid-models tbody tr td:nth-child({i + 1})").all_inner_texts()]

    header.click()
    assert column() == sorted(column())
    header.click()
    assert column() == sorted(column(), reverse=True)
    ids = p.locator("#grid-models tbody tr").evaluate_all("rs => rs.map(r => r.dataset.modelId)")
    assert len(ids) == 3 and all(p.locator(f"a[href='/models/{i}']").count() for i in ids)
    page.shot(f"{env['tag']}-grid-sorted")
    page.assert_no_errors()


def test_delete_a_frame_with_confirmation(env, page):
    load = env["load"]
    out = ok(f"{load}/3/PostFile?filename=gone.csv&destination_frame=gone_{env['tag']}.hex", "POST", data=_csv(20, 4))
    wait_job(load, out["job"])
    p = page.goto(env["url"] + f"/frames/gone_{env['tag']}.hex")
    p.locator("#summary").wait_for()
    p.once("dialog", lambda d: d.dismiss())  # "no" keeps it
    p.click("#delete-frame")
    assert any(f["frame_id"] == f"gone_{env['tag']}.hex" for f in ok(f"{load}/3/Frames")["frames"])
    p.once("dialog", lambda d: d.accept())
    p.click("#delete-frame")
    p.wait_for_url(re.compile(r"/frames$"))
    p.locator("#frame-list").wait_for()
    assert not any(f["frame_id"] == f"gone_{env['tag']}.hex" for f in ok(f"{load}/3/Frames")["frames"])
    page.assert_no_errors()


def test_a_failed_job_shows_its_error(env, page):
    out = ok(f"{env['load']}/3/ImportFiles", "POST", {"path": "/nonexistent/missing.csv",
                                                      "destination_frame": f"missing_{env['tag']}.hex"})
    assert wait_job(env["load"], out["job"])["status"] == "FAILED"
    p = page.goto(env["url"] + "/jobs")
    row = p.locator(f"#jobs tr[data-job-id='{out['job']['job_id']}'][data-status=FAILED]")
    row.wait_for()
    err = p.locator(f"#jobs tr[data-error-for='{out['job']['job_id']}']")
    assert "missing.csv" in err.inner_text() and "error" in (err.locator("td").get_attribute("class") or "")
    page.assert_no_errors()


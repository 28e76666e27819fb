"""The console's server-side SVG charts: every label is text, every mark carries its value, and
names from the data are escaped (a column named <script> stays text)."""

import xml.etree.ElementTree as ET

from h2ocloud.web import charts

NS = "{http://www.w3.org/2000/svg}"


def _svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # well-formed XML, or this raises


def test_scoring_history_has_both_series_and_the_metric_label():
    history = [{"epochs": 1.0, "training_logloss": 0.7, "validation_logloss": 0.8},
               {"epochs": 2.0, "training_logloss": 0.5, "validation_logloss": 0.6}]
    assert charts.scoring_history_metrics(history) == ["logloss"]
    root = _svg(charts.scoring_history_chart(history, "logloss"))
    texts = [t.text for t in root.iter(NS + "text")]
    assert "logloss" in texts and "epochs" in texts and "validation logloss" in texts
    pts = [(c.get("data-series"), float(c.get("data-value"))) for c in root.iter(NS + "circle")]
    assert pts == [("training logloss", 0.7), ("training logloss", 0.5),
                   ("validation logloss", 0.8), ("validation logloss", 0.6)]


def test_varimp_bars_sorted_with_escaped_labels():
    root = _svg(charts.varimp_chart({"variable": ["a", "<script>", "c"], "scaled_importance": [0.2, 1.0, 0.5]}))
    bars = [(r.get("data-label"), float(r.get("data-value"))) for r in root.iter(NS + "rect") if r.get("class") == "bar"]
    assert bars == [("<script>", 1.0), ("c", 0.5), ("a", 0.2)]
    assert "<script>" in [t.text for t in root.iter(NS + "text")]


def test_column_charts():
    num = {"name": "x", "type": "numeric", "histogram": {"breaks": [0, 1, 2], "counts": [3, 4]}}
    root = _svg(charts.column_chart(num))
    assert [int(r.get("data-value")) for r in root.iter(NS + "rect") if r.get("class") == "bar"] == [3, 4]
    enum = {"name": "k", "type": "enum", "domain": ["u", "v"], "level_counts": [1, 9]}
    root = _svg(charts.column_chart(enum))
    assert [r.get("data-label") for r in root.iter(NS + "rect") if r.get("class") == "bar"] == ["v", "u"]
    assert charts.column_chart({"name": "s", "type": "string"}) is None
    assert "no values" in charts.line_chart([], {}, "x", "y", "empty")

"""Charts as server-side SVG: line charts (scoring history), bar charts (variable importances,
factor levels) and histograms, written as plain SVG text the console inlines into its pages.

Why SVG from the server rather than a JavaScript charting library: the console must work with no
network (nothing from a CDN), SVG's <text> puts every label (variable names, the metric, axis
ticks) in the page's DOM where tests and screen readers find them, and a Python function of the
model's own numbers is tested without a browser. Each mark carries its label and value as
data-label / data-value attributes, so a test can check the drawn values against the model's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 560, 300
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 16, 28, 48
LINE_TOP = 46  # a line chart's plot starts below its title and legend row
COLORS = ("#1f6fb4", "#e0702a", "#2a9d4b", "#b23b3b", "#7b57b0")


def _num(v: float) -> str:
    """A tick or value label: short, and exact enough to read."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    out, t = [], first
    while t <= hi + step * 1e-9:
        out.append(round(t, 12))
        t += step
    return out


def _open(kind: str, title: str, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    t = escape(title)
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{t}">',
            f"<title>{t}</title>",
            f'<text class="chart-title" x="{width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600">{t}</text>']


def _frame(parts: list[str], x0: float, x1: float, y0: float, y1: float) -> None:
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#888"/>')
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#888"/>')


def line_chart(x: Sequence[float], series: dict[str, Sequence[float | None]], x_label: str,
               y_label: str, title: str) -> str:
    """One polyline per named series over shared x values; None values leave a gap."""
    parts = _open("line", title)
    x0, x1, y0, y1 = MARGIN_L, WIDTH - MARGIN_R, LINE_TOP, HEIGHT - MARGIN_B
    ys = [v for s in series.values() for v in s if v is not None and math.isfinite(v)]
    xs = [float(v) for v in x]
    if not xs or not ys:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="12">no values to plot</text>')
        parts.append("</svg>")
        return "".join(parts)
    xlo, xhi = min(xs), max(xs)
    ylo, yhi = min(ys), max(ys)
    if xhi == xlo:
        xlo, xhi = xlo - 0.5, xhi + 0.5
    if yhi == ylo:
        ylo, yhi = ylo - abs(ylo) * 0.1 - 0.5, yhi + abs(yhi) * 0.1 + 0.5
    pad = (yhi - ylo) * 0.05
    ylo, yhi = ylo - pad, yhi + pad

    def px(v: float) -> float:
        return x0 + (v - xlo) / (xhi - xlo) * (x1 - x0)

    def py(v: float) -> float:
        return y1 - (v - ylo) / (yhi - ylo) * (y1 - y0)

    _frame(parts, x0, x1, y0, y1)
    for t in _ticks(ylo, yhi):
        parts.append(f'<line x1="{x0}" y1="{py(t):.1f}" x2="{x1}" y2="{py(t):.1f}" stroke="#eee"/>')
        parts.append(f'<text class="tick" x="{x0 - 4}" y="{py(t) + 4:.1f}" text-anchor="end" font-size="10">{_num(t)}</text>')
    for t in _ticks(xlo, xhi):
        parts.append(f'<text class="tick" x="{px(t):.1f}" y="{y1 + 14}" text-anchor="middle" font-size="10">{_num(t)}</text>')
    parts.append(f'<text class="axis-label" x="{(x0 + x1) / 2}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11">{escape(x_label)}</text>')
    parts.append(f'<text class="axis-label" x="14" y="{(y0 + y1) / 2}" text-anchor="middle" font-size="11" '
                 f'transform="rotate(-90 14 {(y0 + y1) / 2})">{escape(y_label)}</text>')
    for i, (name, vals) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        pts = [(px(a), py(float(b))) for a, b in zip(xs, vals) if b is not None and math.isfinite(b)]
        if not pts:
            continue
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        parts.append(f'<polyline class="series" data-series="{escape(name)}" fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for (a, b), xv, yv in zip(pts, [a for a, b in zip(xs, vals) if b is not None and math.isfinite(b)],
                                  [b for b in vals if b is not None and math.isfinite(b)]):
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{color}" data-series="{escape(name)}" '
                         f'data-x="{xv!r}" data-value="{float(yv)!r}"/>')
        # the legend: one row under the title, outside the plot, so no line runs under it
        lx = x0 + sum(24 + 6.5 * len(n) for n in list(series)[:i])
        parts.append(f'<rect x="{lx:.1f}" y="{y0 - 20}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text class="legend" x="{lx + 14:.1f}" y="{y0 - 11}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], value_label: str, title: str) -> str:
    """Horizontal bars, one per label, in the order given (the caller sorts)."""
    n = len(labels)
    row = 18
    height = MARGIN_T + MARGIN_B + max(1, n) * row
    label_w = min(220, 12 + 7 * max((len(s) for s in labels), default=4))
    parts = _open("bar", title, WIDTH, height)
    x0, x1, y0 = label_w, WIDTH - MARGIN_R - 48, MARGIN_T
    hi = max([v for v in values if math.isfinite(v)] + [0.0]) or 1.0
    y1 = y0 + n * row
    _frame(parts, x0, x1, y0, y1)
    for i, (label, v) in enumerate(zip(labels, values)):
        y = y0 + i * row
        w = 0.0 if not math.isfinite(v) else max(0.0, v) / hi * (x1 - x0)
        lab = escape(str(label))
        parts.append(f'<text class="bar-label" x="{x0 - 4}" y="{y + 13}" text-anchor="end" font-size="11">{lab}</text>')
        parts.append(f'<rect class="bar" x="{x0}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{COLORS[0]}" '
                     f'data-label="{lab}" data-value="{float(v)!r}"/>')
        parts.append(f'<text class="bar-value" x="{x0 + w + 4:.1f}" y="{y + 13}" font-size="10">{_num(float(v))}</text>')
    parts.append(f'<text class="axis-label" x="{(x0 + x1) / 2}" y="{y1 + 30}" text-anchor="middle" font-size="11">{escape(value_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(breaks: Sequence[float], counts: Sequence[int], column: str) -> str:
    """Vertical bars between consecutive breaks (len(breaks) == len(counts) + 1)."""
    width, height = 300, 180
    parts = _open("histogram", f"{column}: histogram", width, height)
    x0, x1, y0, y1 = 40, width - 10, 26, height - 30
    _frame(parts, x0, x1, y0, y1)
    n = len(counts)
    hi = max(list(counts) + [1])
    for i, c in enumerate(counts):
        bw = (x1 - x0) / max(n, 1)
        h = c / hi * (y1 - y0)
        lo_b, hi_b = breaks[i], breaks[i + 1]
        parts.append(f'<rect class="bar" x="{x0 + i * bw:.1f}" y="{y1 - h:.1f}" width="{max(bw - 1, 0.5):.1f}" height="{h:.1f}" '
                     f'fill="{COLORS[0]}" data-label="[{_num(lo_b)}, {_num(hi_b)})" data-value="{int(c)}"/>')
    parts.append(f'<text class="tick" x="{x0 - 4}" y="{y0 + 4}" text-anchor="end" font-size="10">{hi}</text>')
    parts.append(f'<text class="tick" x="{x0 - 4}" y="{y1}" text-anchor="end" font-size="10">0</text>')
    if breaks:
        parts.append(f'<text class="tick" x="{x0}" y="{y1 + 14}" text-anchor="start" font-size="10">{_num(breaks[0])}</text>')
        parts.append(f'<text class="tick" x="{x1}" y="{y1 + 14}" text-anchor="end" font-size="10">{_num(breaks[-1])}</text>')
    parts.append(f'<text class="axis-label" x="{(x0 + x1) / 2}" y="{height - 4}" text-anchor="middle" font-size="11">{escape(column)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---- the charts of a model and of a frame, from their JSON ---------------------------------

def scoring_history_metrics(history: Sequence[dict]) -> list[str]:
    """The metrics a scoring history has (training_/validation_ prefixes removed), in order."""
    seen: list[str] = []
    for row in history:
        for k in row:
            for prefix in ("training_", "validation_"):
                if k.startswith(prefix) and k[len(prefix):] not in seen:
                    seen.append(k[len(prefix):])
    return seen


def scoring_history_chart(history: Sequence[dict], metric: str) -> str:
    """Training and validation `metric` over epochs."""
    x = [float(r.get("epochs") or 0.0) for r in history]
    series = {}
    for prefix, name in (("training_", "training"), ("validation_", "validation")):
        vals = [r.get(prefix + metric) for r in history]
        if any(v is not None for v in vals):
            series[f"{name} {metric}"] = [None if v is None else float(v) for v in vals]
    return line_chart(x, series, "epochs", metric, f"Scoring history: {metric}")


def varimp_chart(varimp: dict, top: int = 30) -> str:
    """The `top` most important variables' scaled importances, the most important first."""
    pairs = sorted(zip(varimp["variable"], varimp["scaled_importance"]), key=lambda p: -p[1])[:top]
    return bar_chart([p[0] for p in pairs], [float(p[1]) for p in pairs], "scaled importance",
                     "Variable importances")


def column_chart(col: dict, top_levels: int = 10) -> str | None:
    """A numeric column's histogram, or a factor's most frequent levels; None for others."""
    hist = col.get("histogram") or {}
    if col.get("type") == "numeric" and hist.get("breaks") and hist.get("counts"):
        return histogram(hist["breaks"], hist["counts"], col["name"])
    if col.get("type") == "enum" and col.get("domain"):
        pairs = sorted(zip(col["domain"], col.get("level_counts") or []), key=lambda p: -p[1])[:top_levels]
        return bar_chart([p[0] for p in pairs], [float(p[1]) for p in pairs], "rows",
                         f"{col['name']}: top levels")
    return None

"""Plotly figures of grading results: the Test grading page draws them and the HTML report embeds the same
ones. Pure: data in, figures out (no streamlit), so testable.

plotly is the app's dependency (the [app] extra), not the grading core's: this module is imported only by the
app and by the report when it is built (ftstudio.report says so when plotly is missing).

Histograms are binned here with numpy and drawn as bars: the browser receives a few dozen bins,
not a million rewards, and the counts in a figure are exactly what the tests check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BLUE, GREEN, RED, GREY, ORANGE = "#4C78A8", "#54A24B", "#E45756", "#9D9DA6", "#F58518"
HIST_BINS = 20
FONT = dict(family="Source Sans Pro, sans-serif", size=13)


def as_array(values) -> np.ndarray:
    return np.asarray(values, dtype=float) if len(values) else np.zeros(0)


def sub_array(results, key: str) -> np.ndarray:
    """A multi child's scores with NaN (no value) on the rows where it has no score of its own."""
    a = as_array(results.sub_rewards[key]).copy()
    missing = getattr(results, "sub_missing", {}).get(key)
    if missing:
        a[sorted(missing)] = np.nan
    return a


def value_range(*columns) -> tuple[float, float]:
    """At least [0, 1] (the usual reward range), widened to whatever the values reach."""
    lo, hi = 0.0, 1.0
    for col in columns:
        a = as_array(col)
        a = a[np.isfinite(a)]
        if a.size:
            lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    return lo, hi


def histogram_counts(values, bins: int = HIST_BINS, lo: float | None = None,
                     hi: float | None = None) -> tuple[list[int], list[float]]:
    """(counts, edges); the last bin includes its right edge, as numpy's does."""
    a = as_array(values)
    a = a[np.isfinite(a)]
    if lo is None or hi is None:
        lo, hi = value_range(a)
    scale = 1.0
    if not np.isfinite(hi - lo):  # rewards near ±1e308: numpy can't make bins that wide; bin them scaled down
        scale = max(abs(lo), abs(hi))
        a, lo, hi = a / scale, lo / scale, hi / scale
    counts, edges = np.histogram(a, bins=bins, range=(lo, hi))
    return counts.astype(int).tolist(), (edges * scale).tolist()


def _style(fig: go.Figure, title: str, height: int = 300, subtitle: str | None = None, top: int | None = None,
           **layout) -> go.Figure:
    """A plotly title never wraps: a long one is cut at the chart's edge, so what qualifies it (a count) goes in
    `subtitle`, a line of its own."""
    head: dict = dict(text=title, font=dict(size=15), x=0, xanchor="left")
    if subtitle:
        head["subtitle"] = dict(text=subtitle, font=dict(size=12, color=GREY))
    fig.update_layout(title=head, height=height, template="plotly_white", font=FONT,
                      margin=dict(l=10, r=10, t=top or (68 if subtitle else 48), b=10), bargap=0.05, **layout)
    return fig


def _bars(counts, edges, name: str, color: str, opacity: float = 1.0) -> go.Bar:
    lefts, rights = edges[:-1], edges[1:]
    centers = [(a + b) / 2 for a, b in zip(lefts, rights)]
    width = [(b - a) for a, b in zip(lefts, rights)]
    return go.Bar(x=centers, y=counts, width=width, name=name, marker_color=color, opacity=opacity,
                  customdata=list(zip(lefts, rights)),
                  hovertemplate="%{customdata[0]:.3g} – %{customdata[1]:.3g}: %{y} rows<extra>" + name + "</extra>")


def _threshold_line(fig: go.Figure, threshold: float | None, **where) -> None:
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash", line_color=GREY, annotation_text=f"threshold {threshold:g}",
                      annotation_position="top", annotation_font_size=11, **where)


def reward_histogram(results, threshold: float | None = None, bins: int = HIST_BINS) -> go.Figure:
    counts, edges = histogram_counts(results.rewards, bins)
    fig = go.Figure(_bars(counts, edges, "reward", BLUE))
    _threshold_line(fig, threshold)
    fig.update_xaxes(title_text="reward")
    fig.update_yaxes(title_text="rows")
    return _style(fig, "Reward distribution", showlegend=False)


def sub_reward_histograms(results, bins: int = 10, per_row: int = 4) -> go.Figure | None:
    """Small multiples: one histogram per sub-grader on a shared range (None without sub-graders)."""
    keys = list(results.sub_rewards)
    if not keys:
        return None
    columns = {k: sub_array(results, k) for k in keys}  # rows where a child failed count in no bin
    lo, hi = value_range(*columns.values())
    cols = min(len(keys), per_row)
    nrows = math.ceil(len(keys) / cols)
    titles = [_sub_title(k, v) for k, v in columns.items()]
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=titles, shared_yaxes=True,
                        horizontal_spacing=0.04, vertical_spacing=0.18)
    for i, k in enumerate(keys):
        counts, edges = histogram_counts(columns[k], bins, lo, hi)
        fig.add_trace(_bars(counts, edges, k, BLUE), row=i // cols + 1, col=i % cols + 1)
    fig.update_annotations(font_size=13)
    # The subplot titles (two lines) sit above each chart: the figure's own title needs room above them.
    return _style(fig, "Sub-grader scores", height=260 * nrows + 80, top=88, showlegend=False)


def _sub_title(key: str, values: np.ndarray) -> str:
    scored = values[np.isfinite(values)]
    mean = f"{float(scored.mean()):.2f}" if scored.size else "—"
    none = values.size - scored.size
    return f"{key}<br>mean {mean}" + (f" · {none:,} no value" if none else "")  # two short lines: never cut


def correlation_matrix(results) -> tuple[list[str], list[list[float | None]], int]:
    """(keys, Pearson r between sub-grader scores, rows used). Rows with errors are left out
    (their scores are forced to 0); a constant column has no correlation (None)."""
    keys = list(results.sub_rewards)
    if not keys:
        return [], [], 0
    ok = np.ones(len(results), dtype=bool)
    for r in results.errors:
        if 0 <= r < len(ok):
            ok[r] = False
    data = np.vstack([as_array(results.sub_rewards[k])[ok] for k in keys])
    n = int(ok.sum())
    k = len(keys)
    out: list[list[float | None]] = [[None] * k for _ in range(k)]
    if n >= 2:
        std = data.std(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(data) if k > 1 else np.ones((1, 1))
        for i in range(k):
            for j in range(k):
                if std[i] > 0 and std[j] > 0:
                    out[i][j] = round(float(corr[i][j]), 6)
    return keys, out, n


def correlation_heatmap(results) -> go.Figure | None:
    """Heatmap of sub-grader correlations (None with fewer than two sub-graders)."""
    keys, matrix, n = correlation_matrix(results)
    if len(keys) < 2:
        return None
    z = [[v if v is not None else float("nan") for v in row] for row in matrix]
    text = [["n/a" if v is None else f"{v:.2f}" for v in row] for row in matrix]
    fig = go.Figure(go.Heatmap(z=z, x=keys, y=keys, text=text, texttemplate="%{text}", zmin=-1, zmax=1,
                               colorscale="RdBu", reversescale=False, colorbar=dict(title="r", thickness=12),
                               hovertemplate="%{y} × %{x}: r = %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _style(fig, "Sub-grader correlation", height=140 + 50 * len(keys),
                  subtitle=f"{n:,} row{'' if n == 1 else 's'} without errors")


def errors_bar(results) -> go.Figure | None:
    """Rows per error code, most frequent first (None when no row has an error)."""
    by_code = results.summary()["errors_by_code"] if results.errors else {}
    if not by_code:
        return None
    items = sorted(by_code.items(), key=lambda kv: (kv[1], kv[0]))
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h", marker_color=RED,
                           text=[f"{v:,}" for _, v in items], textposition="auto",
                           hovertemplate="%{y}: %{x} rows<extra></extra>"))
    fig.update_xaxes(title_text="rows")
    return _style(fig, "Errors by code", height=110 + 32 * len(items), showlegend=False)


# --- comparing runs ------------------------------------------------------------------------

def overlay_histograms(base: Sequence[float] | np.ndarray, new: Sequence[float] | np.ndarray, labels: tuple[str, str] = ("baseline", "new"),
                       threshold: float | None = None, bins: int = HIST_BINS) -> go.Figure:
    lo, hi = value_range(base, new)
    cb, edges = histogram_counts(base, bins, lo, hi)
    cn, _ = histogram_counts(new, bins, lo, hi)
    fig = go.Figure([_bars(cb, edges, labels[0], GREY, 0.65), _bars(cn, edges, labels[1], BLUE, 0.65)])
    _threshold_line(fig, threshold)
    fig.update_xaxes(title_text="reward")
    fig.update_yaxes(title_text="rows")
    return _style(fig, "Reward distribution: baseline vs new", barmode="overlay",
                  legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))


def delta_counts(deltas: Sequence[float] | np.ndarray, bins: int = 21) -> tuple[list[int], list[float]]:
    """Bins symmetric around 0, with 0 in the middle bin."""
    a = as_array(deltas)
    lim = float(np.abs(a).max()) if a.size else 0.0
    lim = lim if lim > 0 else 1.0
    half = lim * bins / (bins - 1)  # widen so that +-lim fall in bin centres' reach
    return histogram_counts(a, bins, -half, half)


def delta_histogram(deltas: Sequence[float] | np.ndarray, bins: int = 21) -> go.Figure:
    counts, edges = delta_counts(deltas, bins)
    centers = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    eps = (edges[1] - edges[0]) / 2
    colors = [GREEN if c > eps else RED if c < -eps else GREY for c in centers]
    bar = _bars(counts, edges, "rows", BLUE)
    bar.update(marker_color=colors)
    fig = go.Figure(bar)
    fig.update_xaxes(title_text="new − baseline reward")
    fig.update_yaxes(title_text="rows")
    return _style(fig, "Per-row change", showlegend=False)


# --- calibration ---------------------------------------------------------------------------

def group_std_bar(per_group_std: dict[str, float]) -> go.Figure | None:
    """The reward std of each group of samples of one item (None without groups): a bar at 0 is a group
    GRPO-style training learns nothing from."""
    if not per_group_std:
        return None
    groups = [str(k) for k in per_group_std]
    fig = go.Figure(go.Bar(x=groups, y=list(per_group_std.values()), marker_color=BLUE,
                           hovertemplate="%{x}: std %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title_text="group", type="category", showticklabels=len(groups) <= 40)
    fig.update_yaxes(title_text="reward std", rangemode="tozero")
    return _style(fig, "Reward std per group", height=260, showlegend=False)

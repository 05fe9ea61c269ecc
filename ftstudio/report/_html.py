"""A Report as one self-contained HTML file: styles and plotly.js inlined, the charts interactive, and a
Content-Security-Policy that allows no network at all, so the file opens the same offline, attached to a
review, or years later.

Every text that comes from the user's grader or data is escaped; plotly (the [app] extra) is imported only
here, when a report is written.
"""

from __future__ import annotations

import html
import importlib.util
import json
import time
from typing import Any

from ftstudio import __version__
from ftstudio.core import counted
from ftstudio.graders import walk
from ftstudio.probes import kind_of

from ._report import Report, ReportRow, grader_json

PLOTTING = "plotly"
HOW_TO_INSTALL = "pip install 'ftstudio[app]' (or pip install -e '.[app]' in a checkout)"
# No request leaves the page: scripts and styles are inline, images are data: URLs (plotly's PNG export).
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:")


class ReportUnavailable(Exception):
    """The report can't be written here: plotly (the app's plotting dependency) is not installed."""

    def __init__(self) -> None:
        super().__init__(f"the HTML report's charts need {PLOTTING}, the app's plotting dependency, which is not "
                         f"installed: {HOW_TO_INSTALL}")


def plotting_missing() -> bool:
    return importlib.util.find_spec(PLOTTING) is None


def to_html(report: Report) -> str:
    """The whole report as one HTML document (str). ReportUnavailable without plotly."""
    if plotting_missing():
        raise ReportUnavailable
    from plotly.offline import get_plotlyjs

    body = "\n".join([_header(report), _config(report), _kpis(report), _charts(report), _calibration(report),
                      _probes(report), _worst(report)])
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(report.title)}</title>\n<style>{STYLE}</style>\n"
            f"<script>{get_plotlyjs()}</script>\n</head>\n<body><main>\n{body}\n</main></body></html>\n")


# --- pieces ----------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def _figure(fig: Any) -> str:
    if fig is None:
        return ""
    return '<div class="fig">' + fig.to_html(full_html=False, include_plotlyjs=False, default_width="100%",
                                             config={"displaylogo": False, "responsive": True}) + "</div>"


def _kpi(label: str, value: str, note: str = "") -> str:
    return (f'<div class="kpi"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
            + (f'<div class="note">{_e(note)}</div>' if note else "") + "</div>")


def _header(r: Report) -> str:
    res = r.results
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created))
    partial = ('<p class="warn">Partial run: cancelled before every row was graded; the rows not graded carry '
               "other_error (cancelled).</p>" if res.cancelled else "")
    return (f"<header><h1>{_e(r.title)}</h1><p class=\"meta\">{_e(res.grader_type)} <b>{_e(res.grader_name)}</b> on "
            f"{_e(r.scope)} of <b>{_e(r.dataset)}</b> · written {_e(when)} by ftstudio {_e(__version__)} · this file "
            f"needs no network</p>{partial}</header>")


def _config(r: Report) -> str:
    nodes = "".join(f"<tr><td><code>{_e('.'.join(path) or '(root)')}</code></td><td>{_e(node.type)}</td>"
                    f"<td>{_e(node.name or '')}</td><td>{_e(_node_note(node))}</td></tr>"
                    for path, node in walk(r.grader))
    graded = f"{len(r.results):,}" + (f" of {r.total_rows:,}" if r.total_rows and r.total_rows != len(r.results) else "")
    facts = [("Grader", f"{r.results.grader_type} '{r.results.grader_name}'"), ("Data", r.dataset),
             ("Rows graded", f"{graded} ({r.scope})"), ("Output field", r.sample_field),
             ("Pass threshold", f"{r.threshold:g}")]
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    source = json.dumps(grader_json(r.grader), indent=2, ensure_ascii=False)
    return (f'<section><h2>Configuration</h2><table class="facts">{table}</table>'
            f'<table class="grid"><tr><th>node</th><th>type</th><th>name</th><th></th></tr>{nodes}</table>'
            f"<details><summary>Grader JSON</summary><pre>{_e(source)}</pre></details></section>")


def _node_note(node: Any) -> str:
    for attr in ("calculate_output", "operation", "evaluation_metric", "model"):
        value = getattr(node, attr, None)
        if isinstance(value, str) and value:
            return f"{attr}: {value}"
    return ""


def _kpis(r: Report) -> str:
    s = r.results.summary()
    n = len(r.results)
    passing = sum(1 for v in r.results.rewards if v >= r.threshold)
    secs = r.results.elapsed
    rate = f"{s['rows_per_second']:,.0f} rows/s" if s.get("rows_per_second") else ""
    cards = [_kpi("Mean reward", _num(s["mean"]), f"std {_num(s['std'])}" if s["std"] is not None else ""),
             _kpi(f"Rows ≥ {r.threshold:g}", _pct(passing / n if n else None), f"{passing:,} of {counted(n, 'row')}"),
             _kpi("Error rate", _pct(s["error_rate"]), f"{counted(s['rows_with_errors'], 'row')} with an error flag"),
             _kpi("Rows graded", f"{n:,}", r.scope),
             _kpi("Elapsed", f"{secs * 1000:.0f} ms" if secs < 1 else f"{secs:.1f} s", rate)]
    return f'<section><h2>Results</h2><div class="kpis">{"".join(cards)}</div></section>'


def _charts(r: Report) -> str:
    from . import charts as C

    res = r.results
    top = [_figure(C.reward_histogram(res, r.threshold)), _figure(C.errors_bar(res)) or
           '<p class="ok">No row has an error flag.</p>']
    subs, corr = C.sub_reward_histograms(res), C.correlation_heatmap(res)
    below = f'<div class="wide">{_figure(subs)}</div>' if subs is not None else ""
    below += f'<div class="half">{_figure(corr)}</div>' if corr is not None else ""
    return (f'<section><h2>Charts</h2><p class="hint">Interactive: hover a bar for its rows, drag to zoom, '
            f'double-click to reset.</p><div class="two">{"".join(top)}</div>{below}</section>')


def _calibration(r: Report) -> str:
    c = r.calibration
    if not c or not c.get("count"):
        return ""
    from . import charts as C

    cards = [_kpi("Reward std", _num(c["std"])), _kpi("At the minimum", _pct(c["share_at_min"]), f"reward {c['min']:.4g}"),
             _kpi("At the maximum", _pct(c["share_at_max"]), f"reward {c['max']:.4g}")]
    for label, t in c["fail_thresholds"].items():
        if t["threshold"] is None:
            cards.append(_kpi(f"Threshold failing {label}", "—", "every row scores the same"))
        else:  # ties at the threshold: the share it really fails, as the app and the CLI say it
            cards.append(_kpi(f"Threshold failing {_pct(t['share_failing'])}", f"{t['threshold']:.3g}", f"aimed at {label}"))
    parts = [f'<div class="kpis">{"".join(cards)}</div>']
    if c.get("warning"):
        parts.append(f'<p class="warn">{_e(c["warning"])}</p>')
    g = c.get("groups")
    if g and g.get("groups"):
        parts.append(f"<p><b>Groups ({_e(g['by'])})</b>: {g['groups']:,} with 2+ samples · "
                     f"<b>{100 * g['zero_variance_share']:.0f}%</b> have zero reward variance · per-group std mean "
                     f"{g['std_mean']:.3f}, median {g['std_median']:.3f}</p>")
        parts.append(_figure(C.group_std_bar(g["per_group_std"])))
    elif g:
        parts.append(f'<p class="hint">Groups ({_e(g["by"])}): {_e(g["note"])}</p>')
    return ('<section><h2>Calibration</h2><p class="hint">Is there a learning signal in these rewards?</p>'
            + "".join(parts) + "</section>")


def _probes(r: Report) -> str:
    p = r.probes
    if p is None:
        return ""
    if p.flagged:
        items = "".join(f"<li><b>{_e(f.probe)}</b> — {_e(f.why or '')}</li>" for f in p.flagged)
        verdict = (f'<p class="bad">{len(p.flagged)} probe(s) game this grader (genuine mean {_num(p.genuine_mean)}, '
                   f"threshold {p.threshold:g}).</p><ul>{items}</ul>")
    else:
        verdict = f'<p class="ok">No probe games this grader (genuine mean {_num(p.genuine_mean)}).</p>'
    head = ("<tr><th>probe</th><th>kind</th><th>rows</th><th>mean reward</th><th>above genuine</th><th>tied</th>"
            "<th>≥ threshold</th><th>flagged</th></tr>")
    rows = "".join(f"<tr><td>{_e(x.probe)}</td><td>{_e(kind_of(x.probe))}</td><td>{x.rows:,}</td>"
                   f"<td>{_num(x.mean_reward)}</td><td>{_pct(x.share_above_genuine)}</td>"
                   f"<td>{_pct(x.share_tied_with_genuine)}</td><td>{_pct(x.share_at_or_above_threshold)}</td>"
                   f"<td>{'⚑ yes' if x.flagged else 'no'}</td></tr>" for x in p.probes)
    judge = "".join(f"<tr><td>{_e(j.probe)}</td><td>judge</td><td>{j.rows:,}</td><td>{_num(j.mean)}</td>"
                    f"<td colspan=3>{_e(j.why or '')}</td><td>{'⚑ yes' if j.flagged else 'no'}</td></tr>" for j in p.judge)
    return (f"<section><h2>Can this grader be gamed?</h2><p class=\"hint\">Probes run for this run in the app: each "
            f"genuine sample changed into what a lazy or adversarial policy might output, then graded "
            f"({p.genuine_rows:,} genuine samples).</p>{verdict}<table class=\"grid\">{head}{rows}{judge}</table></section>")


def _worst(r: Report) -> str:
    if not r.worst:
        return ""
    cards = "".join(_row(r, w) for w in r.worst)
    return (f"<section><h2>The {len(r.worst)} lowest-scoring rows</h2><p class=\"hint\">Lowest reward first, with "
            f"what each grader saw (its templates rendered for the row; nothing was graded again).</p>{cards}</section>")


def _row(r: Report, w: ReportRow) -> str:
    line = f" · line {w.line}" if w.line is not None else ""
    head = f"<h3>row {w.row + 1}{line} · reward {w.reward:.4f}" + (" · ⚠ error" if w.errors else "") + "</h3>"
    parts = [head]
    if w.sub_rewards:
        parts.append('<p class="subs">' + " · ".join(f"{_e(k)} <b>{'—' if v is None else f'{v:.4g}'}</b>"
                                                   for k, v in w.sub_rewards.items()) + "</p>")
    parts += [f'<p class="bad"><b>{_e(code)}</b> — {_e(why)}</p>' for code, why in w.errors.items()]
    if w.unreadable is not None:
        parts.append(f'<p class="warn">Unreadable line: {_e(w.unreadable)}</p>')
    else:
        parts.append(f"<h4>Output (<code>{_e(r.sample_field)}</code>)</h4><pre>{_e(w.output or '(none)')}</pre>")
        parts.append("<details><summary>Item</summary><pre>"
                     + _e(json.dumps(w.item, indent=2, ensure_ascii=False)[:8000]) + "</pre></details>")
    for node in w.inputs:
        parts.append(_node_inputs(node))
    return '<article class="row">' + "".join(parts) + "</article>"


def _node_inputs(node: dict[str, Any]) -> str:
    where = node["path"].replace("graders.", "") if node["path"] else "grader"
    head = f"<h4><code>{_e(where)}</code> · {_e(node['type'])} <i>{_e(node['name'] or '')}</i></h4>"
    if node.get("problem"):
        return head + f'<p class="hint">nothing rendered: {_e(node["problem"])}</p>'
    body = []
    for name, value in node["rendered"].items():
        if name == "messages" and isinstance(value, list):
            for m in value:
                role = m.get("role", "?") if isinstance(m, dict) else "?"
                content = m.get("content") if isinstance(m, dict) else m
                body.append(f'<div class="cap">message · {_e(role)}</div><pre>{_e(_as_text(content))}</pre>')
        else:
            body.append(f'<div class="cap">{_e(name)}</div><pre>{_e(_as_text(value) or "(empty)")}</pre>')
    if not body:
        return ""  # a node with no template (python source, a multi's formula): the config shows it
    return '<div class="node">' + head + "".join(body) + "</div>"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


STYLE = """
:root { color-scheme: light; --ink: #262730; --muted: #6b6f7b; --line: #e6e8ee; --blue: #4C78A8; --red: #c62828;
  --green: #2e7d32; --amber: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "Source Sans Pro", "Segoe UI", system-ui, sans-serif; color: var(--ink);
  background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; } h2 { font-size: 21px; margin: 32px 0 10px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); } h3 { font-size: 16px; margin: 0 0 6px; } h4 { font-size: 14px; margin: 12px 0 4px; }
.meta, .hint, .cap, .note { color: var(--muted); } .hint { margin: 0 0 10px; } .cap { font-size: 12px; margin-top: 6px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi { flex: 1 1 170px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.kpi .label { font-size: 13px; color: var(--muted); } .kpi .value { font-size: 26px; }
.kpi .note { font-size: 12px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; } .half { max-width: 50%; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } .half { max-width: 100%; } }
.fig { min-width: 0; }
table { border-collapse: collapse; margin: 8px 0 12px; } th, td { text-align: left; padding: 4px 10px;
  border-bottom: 1px solid var(--line); vertical-align: top; } table.facts th { color: var(--muted); font-weight: 600; }
table.grid th { background: #f6f7f9; }
pre { background: #f6f7f9; border-radius: 6px; padding: 8px 10px; margin: 2px 0 6px; white-space: pre-wrap;
  word-break: break-word; font-size: 13px; }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--blue); }
.row { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
.node { border-left: 3px solid var(--line); padding-left: 10px; margin-top: 8px; }
.subs { margin: 0 0 6px; }
.ok { color: var(--green); } .bad { color: var(--red); margin: 4px 0; } .warn { color: var(--amber); }
code { font-size: 13px; }
"""

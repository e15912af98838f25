"""Small server-rendered SVG charts (no script, no external library: the hall may be offline)."""

from __future__ import annotations

from markupsafe import Markup, escape


def hourly_bars(hourly: list[dict], key: str, title: str, unit: str, scale: float = 1.0, color: str = "#1557a6") -> Markup:
    """One bar per hour from the first to the last hour with data (at least 8:00–18:00)."""
    used = [h["hour"] for h in hourly if h["issued"] or h["served"] or h.get(key)]
    lo, hi = min(used + [8]), max(used + [17])
    hours = [h for h in hourly if lo <= h["hour"] <= hi]
    values = [(h[key] or 0) / scale for h in hours]
    top = max(values + [1e-9])
    w, h_, pad_l, pad_b, pad_t = 720, 240, 40, 28, 28
    bw = (w - pad_l - 10) / len(hours)
    parts = [f'<svg viewBox="0 0 {w} {h_}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{pad_l}" y="16" font-size="14" fill="#1b1f24">{escape(title)}</text>']
    for frac in (0.5, 1.0):
        y = h_ - pad_b - (h_ - pad_b - pad_t) * frac
        parts.append(f'<line x1="{pad_l}" x2="{w - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d7dde3"/>')
        parts.append(f'<text x="{pad_l - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#5d6670">{top * frac:.0f}</text>')
    for i, (hour, v) in enumerate(zip(hours, values)):
        bh = (h_ - pad_b - pad_t) * (v / top if top else 0)
        x = pad_l + i * bw + 3
        y = h_ - pad_b - bh
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 6:.1f}" height="{bh:.1f}" fill="{color}" rx="2"><title>{hour["hour"]}:00 {v:.1f}{escape(unit)}</title></rect>')
        if v:
            parts.append(f'<text x="{x + (bw - 6) / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle" fill="#1b1f24">{v:.0f}</text>')
        parts.append(f'<text x="{x + (bw - 6) / 2:.1f}" y="{h_ - 10}" font-size="11" text-anchor="middle" fill="#5d6670">{hour["hour"]}时</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def satisfaction_bars(sat: dict) -> Markup:
    colors = {5: "#0a7d3b", 4: "#4c9a5f", 3: "#8fb996", 2: "#e0884a", 1: "#b3261e"}
    total = max(sat["total"], 1)
    w, row = 520, 26
    parts = [f'<svg viewBox="0 0 {w} {row * 5 + 8}" role="img" aria-label="满意度" xmlns="http://www.w3.org/2000/svg">']
    for i, c in enumerate(sat["counts"]):
        y = 4 + i * row
        bw = (w - 190) * c["count"] / total
        parts.append(f'<text x="0" y="{y + 17}" font-size="13" fill="#1b1f24">{escape(c["name"])}</text>')
        parts.append(f'<rect x="90" y="{y + 3}" width="{bw:.1f}" height="{row - 8}" fill="{colors[c["score"]]}" rx="2"/>')
        parts.append(f'<text x="{96 + bw:.1f}" y="{y + 17}" font-size="13" fill="#1b1f24">{c["count"]}（{c["count"] * 100 / total:.0f}%）</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

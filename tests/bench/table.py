"""Result rows and the table printer for the benchmark.

A row holds samples for facteur and for the reference in one or two
Dovecot variants ("debian", "tuned"); the table shows the median and the
spread (min-max) of each, and the ratio facteur/reference of medians.
"""
import statistics


class Row:
    def __init__(self, group, name, unit, better, target=None, note=""):
        self.group = group
        self.name = name
        self.unit = unit
        self.better = better            # "higher" or "lower" or ""
        self.target = target            # (text, predicate(f, deb, tun))
        self.note = note
        self.samples = {"facteur": [], "debian": [], "tuned": []}

    def add(self, who, value):
        if value is not None:
            self.samples[who].append(value)

    def median(self, who):
        s = self.samples[who]
        return statistics.median(s) if s else None

    def to_json(self):
        return {"group": self.group, "name": self.name, "unit": self.unit,
                "better": self.better, "note": self.note,
                "samples": self.samples,
                "target": self.target[0] if self.target else None,
                "target_met": self.target_met()}

    def target_met(self):
        if not self.target:
            return None
        try:
            return bool(self.target[1](self.median("facteur"),
                                       self.median("debian"),
                                       self.median("tuned")))
        except (TypeError, ZeroDivisionError):
            return None


def fmt_num(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 10:
        return "%.2f" % v
    if a >= 0.01:
        return "%.3f" % v
    if a == 0:
        return "0"
    return "%.2g" % v


def fmt_cell(samples):
    if not samples:
        return "-"
    m = statistics.median(samples)
    if len(samples) == 1:
        return fmt_num(m)
    lo, hi = min(samples), max(samples)
    if m:
        spread = (hi - lo) / 2 / abs(m) * 100
        return "%s ±%.0f%%" % (fmt_num(m), spread)
    return "%s [%s-%s]" % (fmt_num(m), fmt_num(lo), fmt_num(hi))


def fmt_ratio(f, r):
    if f is None or r is None or r == 0:
        return "-"
    return "%.2fx" % (f / r)


def render(rows, header_lines=()):
    """Markdown table (also readable as plain text)."""
    cols = ["workload", "unit", "facteur", "ref (Debian)", "f/ref",
            "ref tuned", "f/tuned", "target"]
    lines = []
    for h in header_lines:
        lines.append(h)
    if header_lines:
        lines.append("")
    table = [cols]
    group = None
    for r in rows:
        if r.group != group:
            group = r.group
            table.append(["**%s**" % group] + [""] * (len(cols) - 1))
        f, d, t = (r.median("facteur"), r.median("debian"),
                   r.median("tuned"))
        met = r.target_met()
        tgt = ""
        if r.target:
            tgt = r.target[0] + (" ✓" if met else " ✗" if met is False
                                 else " ?")
        table.append([
            r.name, r.unit + (" ↑" if r.better == "higher" else
                              " ↓" if r.better == "lower" else ""),
            fmt_cell(r.samples["facteur"]), fmt_cell(r.samples["debian"]),
            fmt_ratio(f, d), fmt_cell(r.samples["tuned"]),
            fmt_ratio(f, t), tgt])
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for i, row in enumerate(table):
        lines.append("| " + " | ".join(c.ljust(widths[j])
                                       for j, c in enumerate(row)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    notes = [r for r in rows if r.note]
    if notes:
        lines.append("")
        lines.append("Notes:")
        for r in notes:
            lines.append("- %s / %s: %s" % (r.group, r.name, r.note))
    return "\n".join(lines) + "\n"

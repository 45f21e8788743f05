"""Worksheets (:mod:`glassnet.grading.worksheet`) drawn: Markdown, HTML and PDF, for the student and for the teacher.

For: printing homework. :func:`sheet_markdown` / :func:`sheet_html` write one student's sheet (the network's Θ, x, y,
λ, the lecture's formulas and one line per asked value, in the note's form, to fill in), or with ``key=True`` the
same sheet with the answers; :func:`key_markdown` / :func:`key_html` the teacher's key for every student (one page
each). :func:`print_pdfs` prints HTML documents to PDF in one headless Chromium session (Playwright where it is
installed, else the ``chromium --print-to-pdf`` program). The pages load nothing from elsewhere. Not for: computing
anything (every number comes from the sheet) or writing files.
"""

from __future__ import annotations

import html
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from glassnet._support.browser import ENV, find_chromium
from glassnet.explain.text import format_number, unit_equation
from glassnet.grading.worksheet import ASK, Sheet, Worksheet
from glassnet.notation import a_name, delta_name, quantity_key, quantity_name, sub, sup, theta_name, z_name

__all__ = ["sheet_markdown", "sheet_html", "key_markdown", "key_html", "print_pdfs", "CSV_HELP"]

CSV_HELP = ("quantity,value rows, one per value, e.g. z_1^(2),-2 or delta_2^(2),0.1493 (the lecture's δ₂⁽²⁾ is "
            "read too): z_j^(l), a_j^(l), delta_j^(l), Delta_ij^(l), D_ij^(l)")


def _n(v: float) -> str:
    """An answer as the key prints it: exact when it has at most 4 decimals, else to 4 decimals (minus sign −)."""
    return format_number(v, 6) if abs(v - round(v, 4)) < 1e-12 else f"{v:.4f}".replace("-", "−")


def _x_name(j: int) -> str:
    return f"x{sub(j)}"


def _given(sheet: Sheet) -> list[tuple[str, list[list[str]]]]:
    """(caption, table rows) of each Θ⁽ˡ⁾: a header row, then i = 1..s_{l+1} with j = 0 (bias), 1..s_l."""
    out = []
    for l, th in enumerate(sheet.thetas, start=1):
        head = [f"{theta_name(l)}", "j = 0 (bias)"] + [f"j = {j}" for j in range(1, th.shape[1])]
        rows = [[f"i = {i}"] + [format_number(v) for v in th[i - 1]] for i in range(1, th.shape[0] + 1)]
        out.append((f"{theta_name(l)}: from layer {l} (columns j) to layer {l + 1} (rows i)", [head, *rows]))
    return out


def _questions(ws: Worksheet, sheet: Sheet) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section title, [(quantity key, the line to fill in)]) in the order the answers are computed."""
    sizes, L = sheet.sizes, len(sheet.sizes)
    parts: list[tuple[str, list[tuple[str, str]]]] = []
    if "z" in ws.ask or "a" in ws.ask:
        lines = []
        for l in range(2, L + 1):
            for j in range(1, sizes[l - 1] + 1):
                prev = [_x_name(k) if l == 2 else a_name(l - 1, k) for k in range(1, sizes[l - 2] + 1)]
                if "z" in ws.ask:
                    terms = " + ".join([theta_name(l - 1, j, 0)] + [f"{theta_name(l - 1, j, k)}·{p}"
                                                                   for k, p in enumerate(prev, start=1)])
                    lines.append((quantity_key("z", l, j), f"{z_name(l, j)} = {terms}"))
                if "a" in ws.ask:
                    lines.append((quantity_key("a", l, j), f"{a_name(l, j)} = g({z_name(l, j)})"))
        parts.append(("Forward propagation", lines))
    if "deltaL" in ws.ask:
        parts.append((f"The output error δ{sup(L)}", [
            (quantity_key("delta", L, j), f"{delta_name(L, j)} = {a_name(L, j)} − y{sub(j)}")
            for j in range(1, sizes[-1] + 1)]))
    if "delta" in ws.ask:
        lines = []
        for l in range(L - 1, 1, -1):
            for j in range(1, sizes[l - 1] + 1):
                s = " + ".join(f"{theta_name(l, i, j)}{delta_name(l + 1, i)}" for i in range(1, sizes[l] + 1))
                lines.append((quantity_key("delta", l, j),
                              f"{delta_name(l, j)} = ({s}) · g′({z_name(l, j)})"))
        parts.append(("The hidden errors, in the note's form", lines))
    for symbol, title in (("Delta", "Δ for this example"), ("D", "The gradient D (m = 1)")):
        if symbol not in ws.ask:
            continue
        lines = []
        for l in range(1, L):
            for i in range(1, sizes[l] + 1):
                for j in range(0, sizes[l - 1] + 1):
                    key = quantity_key(symbol, l, i, j)
                    if symbol == "Delta":
                        a = "1" if j == 0 else (_x_name(j) if l == 1 else a_name(l, j))
                        lines.append((key, f"{quantity_name(key)} = {delta_name(l + 1, i)}·{a}"))
                    else:
                        reg = "" if j == 0 else f" + (λ/m)·{theta_name(l, i, j)}"
                        lines.append((key, f"{quantity_name(key)} = {quantity_name(quantity_key('Delta', l, i, j))}/m"
                                      + reg))
        parts.append((title, lines))
    return parts


def _key_note(sheet: Sheet, key: str, tr) -> str:
    """The worked line of the key for hidden δ (the explainer's equation with the numbers), else ''."""
    from glassnet.notation import parse_quantity

    symbol, l, idx = parse_quantity(key)
    if symbol == "delta" and l < len(sheet.sizes):
        return unit_equation(tr, l, idx[0], 4)
    return ""


def _intro(ws: Worksheet, sheet: Sheet) -> list[str]:
    L = len(sheet.sizes)
    x = ", ".join(format_number(v) for v in sheet.x)
    y = ", ".join(format_number(v) for v in sheet.y)
    return [f"Network {'-'.join(map(str, sheet.sizes))} with sigmoid units g(z) = 1/(1 + e^(−z)) and the logistic "
            f"cost; one example (m = 1), λ = {format_number(sheet.lam)}.",
            f"Input x = ({x}); target y = ({y}) (output unit {sheet.label + 1} is the example's class).",
            f"Rules: a{sup(1)} = x and a₀ = 1 in every layer but the last; z{sup(2)} = Θ{sup(1)}a{sup(1)}, "
            f"a = g(z); δ{sup(L)} = a{sup(L)} − y; δⱼ⁽ˡ⁾ = (Σᵢ Θᵢⱼ⁽ˡ⁾δᵢ⁽ˡ⁺¹⁾)·g′(zⱼ⁽ˡ⁾) with "
            f"g′(z) = a(1 − a); Δᵢⱼ⁽ˡ⁾ = δᵢ⁽ˡ⁺¹⁾aⱼ⁽ˡ⁾; Dᵢⱼ⁽ˡ⁾ = Δᵢⱼ⁽ˡ⁾/m + (λ/m)Θᵢⱼ⁽ˡ⁾ for j ≥ 1, "
            f"Dᵢ₀⁽ˡ⁾ = Δᵢ₀⁽ˡ⁾/m.",
            "Give every value to 4 decimal places (values within 0.001 count as right)."]


def _check_line(sheet: Sheet) -> str:
    return (f"Check your answers: glassnet worksheet check SHEETS --student {sheet.student} answers.csv, with "
            f"{CSV_HELP}.")


# ---------------------------------------------------------------------------------------------------------------
# Markdown


def sheet_markdown(ws: Worksheet, sheet: Sheet, key: bool = False) -> str:
    """One student's sheet as Markdown (``key``: with the answers)."""
    tr = sheet.trace() if key else None
    out = [f"# Backpropagation by hand · sheet {sheet.student}" + (" · answer key" if key else ""), ""]
    out += [] if key else ["Name: ______________________", ""]
    out += [line + "  " for line in _intro(ws, sheet)] + [""]
    for caption, rows in _given(sheet):
        out += [f"**{caption}**", "", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        out += ["| " + " | ".join(r) + " |" for r in rows[1:]] + [""]
    number = 0
    for title, lines in _questions(ws, sheet):
        out += [f"## {title}", ""]
        for k, text in lines:
            number += 1
            if key:
                note = _key_note(sheet, k, tr)
                out.append(f"{number}. {text} = **{_n(sheet.answers[k])}**" + (f"  \n   {note}" if note else ""))
            else:
                out.append(f"{number}. {text} = ____________")
        out.append("")
    out += ["---", "", _check_line(sheet), ""]
    return "\n".join(out)


def key_markdown(ws: Worksheet) -> str:
    """The teacher's key: every student's sheet with its answers, one after the other."""
    head = [f"# Answer key · {len(ws.sheets)} sheets · seed {ws.seed} · network {'-'.join(map(str, ws.sizes))}", "",
            f"Asked: {'; '.join(ASK[a] for a in ws.ask)}. The machine-readable key is answers.json.", ""]
    return "\n".join(head) + "\n" + "\n\n".join("#" + sheet_markdown(ws, s, key=True) for s in ws.sheets)


# ---------------------------------------------------------------------------------------------------------------
# HTML

_CSS = """
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 11pt; color: #111; margin: 24px auto;
  max-width: 190mm; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 6px; } h2 { font-size: 12.5pt; margin: 14px 0 4px; border-bottom: 1px solid #999; }
.name { margin: 4px 0 10px; } .intro p { margin: 2px 0; }
table { border-collapse: collapse; margin: 6px 16px 8px 0; display: inline-table; vertical-align: top; }
th, td { border: 1px solid #888; padding: 2px 8px; text-align: right; } th { background: #eee; font-weight: 600; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 2px; font-size: 10pt; }
ol { margin: 4px 0; padding-left: 2.2em; } li { margin: 5px 0; break-inside: avoid; }
ol.two { columns: 2; column-gap: 28px; }
.blank { display: inline-block; min-width: 34mm; border-bottom: 1px solid #333; height: 1em; }
.answer { font-weight: 700; } .worked { display: block; color: #444; font-size: 9.5pt; }
.check { margin-top: 14px; font-size: 9pt; color: #444; border-top: 1px solid #999; padding-top: 6px; }
.sheet + .sheet { break-before: page; page-break-before: always; }
@page { size: A4; margin: 14mm; }
@media print { body { margin: 0; max-width: none; } }
"""


def _sheet_body(ws: Worksheet, sheet: Sheet, key: bool) -> str:
    e = html.escape
    tr = sheet.trace() if key else None
    out = [f'<section class="sheet" data-student="{sheet.student}">',
           f"<h1>Backpropagation by hand · sheet {sheet.student}{' · answer key' if key else ''}</h1>",
           "" if key else '<p class="name">Name: <span class="blank" style="min-width:70mm"></span></p>',
           '<div class="intro">' + "".join(f"<p>{e(p)}</p>" for p in _intro(ws, sheet)) + "</div><div>"]
    for caption, rows in _given(sheet):
        body = "".join("<tr>" + f"<th>{e(r[0])}</th>" + "".join(f"<td>{e(c)}</td>" for c in r[1:]) + "</tr>"
                       for r in rows[1:])
        out.append(f"<table><caption>{e(caption)}</caption><tr>" + "".join(f"<th>{e(h)}</th>" for h in rows[0])
                   + f"</tr>{body}</table>")
    out.append("</div>")
    number = 0
    for title, lines in _questions(ws, sheet):
        two = ' class="two"' if title.startswith(("Δ", "The gradient")) or len(lines) > 8 else ""
        out.append(f"<h2>{e(title)}</h2><ol start=\"{number + 1}\"{two}>")
        for k, text in lines:
            number += 1
            if key:
                note = _key_note(sheet, k, tr)
                out.append(f'<li data-quantity="{e(k)}">{e(text)} = <span class="answer" data-value='
                           f'"{sheet.answers[k]!r}">{e(_n(sheet.answers[k]))}</span>'
                           + (f'<span class="worked">{e(note)}</span>' if note else "") + "</li>")
            else:
                out.append(f'<li data-quantity="{e(k)}">{e(text)} = <span class="blank"></span></li>')
        out.append("</ol>")
    out.append(f'<p class="check">{e(_check_line(sheet))}</p></section>')
    return "\n".join(out)


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def sheet_html(ws: Worksheet, sheet: Sheet, key: bool = False) -> str:
    """One student's sheet as a self-contained HTML page (``key``: with the answers); prints on A4."""
    return _page(f"Backpropagation by hand · sheet {sheet.student}", _sheet_body(ws, sheet, key))


def key_html(ws: Worksheet) -> str:
    """The teacher's key as one HTML page: every student's sheet with its answers, one printed page each."""
    return _page(f"Answer key · {len(ws.sheets)} sheets", "\n".join(_sheet_body(ws, s, True) for s in ws.sheets))


# ---------------------------------------------------------------------------------------------------------------
# PDF


def print_pdfs(documents: Sequence[str], timeout_s: float = 120.0) -> list[bytes]:
    """Each HTML document printed to PDF (A4) by headless Chromium, in one browser session where Playwright is
    installed. Raises RuntimeError saying what to install when no Chromium is found."""
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError(f"PDF needs the Chromium browser: install it (e.g. apt-get install chromium) or set {ENV} "
                           f"to its program")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [_print_one(chromium, doc, timeout_s) for doc in documents]
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # the sheets load nothing; nothing may be fetched
            for doc in documents:
                page.set_content(doc)
                out.append(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
        finally:
            browser.close()
    return out


def _print_one(chromium: str, doc: str, timeout_s: float) -> bytes:
    """One document through ``chromium --headless --print-to-pdf`` (without Playwright)."""
    with tempfile.TemporaryDirectory(prefix="glassnet-pdf-") as folder:
        src, pdf = Path(folder) / "sheet.html", Path(folder) / "sheet.pdf"
        src.write_text(doc, encoding="utf-8")
        flags = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # root: the sandbox refuses
        cmd = [chromium, "--headless", "--disable-gpu", *flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
               src.as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"PDF: running {chromium} failed ({exc})") from None
        if not pdf.is_file():
            raise RuntimeError(f"PDF: {chromium} wrote no PDF")
        return pdf.read_bytes()

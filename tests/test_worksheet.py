"""Worksheets: every asked value equals glassnet.explain's trace, the key round-trips, the checker names each slip."""

from __future__ import annotations

import json
import re
import zlib

import numpy as np
import pytest

import glassnet
from glassnet.cli import main
from glassnet.grading import worksheet_render as render
from glassnet.grading.mistakes import MISTAKES
from glassnet.grading.worksheet import (
    SLIPS,
    Worksheet,
    check_answers,
    load_worksheet,
    make_worksheet,
    read_answers_csv,
)
from glassnet.notation import parse_quantity, quantity_key


@pytest.fixture(scope="module")
def ws():
    return make_worksheet(6, seed=7, sizes=(2, 2, 2), lam=1.0)


def trace_value(sheet, key):
    """The quantity as glassnet.explain traces the student's example on its own (m = 1)."""
    tr = glassnet.explain(list(sheet.thetas), sheet.x, sheet.label, sheet.lam, m=1)
    symbol, l, idx = parse_quantity(key)
    if symbol in ("z", "a", "delta"):
        return getattr(tr, symbol)[l][idx[0]]
    i, j = idx
    Delta = tr.gradients[l - 1].contribution[i - 1, j]
    if symbol == "Delta":
        return Delta
    return Delta + (0.0 if j == 0 else sheet.lam * sheet.thetas[l - 1][i - 1, j])  # D with m = 1


def test_every_answer_equals_the_trace(ws):
    for sheet in ws.sheets:
        assert len(sheet.answers) == 8 + 2 + 2 + 12 + 12
        for key, value in sheet.answers.items():
            assert value == pytest.approx(trace_value(sheet, key), rel=1e-12, abs=1e-15), (sheet.student, key)
        # round numbers: weights in steps of 0.5 in [−2, 2], inputs ±1 or ±2
        assert all(np.all(t * 2 == np.round(t * 2)) and np.abs(t).max() <= 2 for t in sheet.thetas)
        assert set(np.abs(sheet.x)) <= {1.0, 2.0}


def test_a_students_sheet_depends_on_seed_and_number_only(ws):
    more = make_worksheet(9, seed=7)
    assert all(np.array_equal(a.thetas[0], b.thetas[0]) and a.answers == b.answers
               for a, b in zip(ws.sheets, more.sheets))
    assert not np.array_equal(make_worksheet(1, seed=8).sheets[0].thetas[0], ws.sheets[0].thetas[0])


def test_ask_chooses_the_quantities():
    only = make_worksheet(2, seed=1, ask=["delta", "deltaL"], sizes=(2, 3, 2, 2))
    keys = list(only.sheets[0].answers)
    assert keys == ["delta_1^(4)", "delta_2^(4)", "delta_1^(3)", "delta_2^(3)", "delta_1^(2)", "delta_2^(2)",
                    "delta_3^(2)"]
    with pytest.raises(ValueError, match="ask: expected some of z, a, deltaL, delta, Delta, D"):
        make_worksheet(1, ask=["dz"])
    with pytest.raises(ValueError, match="sizes: a sheet is done by hand"):
        make_worksheet(1, sizes=(2, 9, 2))


def test_answers_json_round_trips(ws, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(ws.to_json(), encoding="utf-8")
    back = load_worksheet(tmp_path)
    assert back.to_dict() == ws.to_dict() == json.loads(path.read_text())
    s = json.loads(path.read_text())["students"][2]
    assert set(s) >= {"thetas", "x", "y", "label", "lam", "answers"} and s["answers"]["delta_2^(2)"] == \
        ws.sheets[2].answers["delta_2^(2)"]
    assert isinstance(back, Worksheet) and back.sheet(3).answers == ws.sheet(3).answers


def _planted(sheet, slip_name, symbol_kind):
    """A value where the slip differs from the right answer, and the slip's number there."""
    tr = sheet.trace()
    for key, right in sheet.answers.items():
        for slip in SLIPS:
            if slip.name == slip_name and slip.symbol == symbol_kind:
                wrong = slip.value_for(key, tr)
                if wrong is not None and abs(wrong - right) > 0.01:
                    return key, wrong, slip
    return None


@pytest.mark.parametrize(("name", "kind"), sorted({(s.name, s.symbol) for s in SLIPS}))
def test_check_names_each_planted_slip(ws, name, kind):
    for sheet in ws.sheets:
        found = _planted(sheet, name, kind)
        if found is None:
            continue
        key, wrong, slip = found
        given = dict(sheet.answers)
        given[key] = round(wrong, 4)  # as a student writes it
        report = check_answers(sheet, given)
        bad = [r for r in report.rows if not r.right]
        assert [r.key for r in bad] == [key]
        named = [bad[0].slip, *bad[0].also]
        assert slip in named, (sheet.student, key, bad[0].text())
        assert slip.title in bad[0].text()
        return
    pytest.fail(f"no sheet where {name} ({kind}) differs from the answer")


def test_the_slips_reuse_the_graders_catalogue():
    names = {m.name for m in MISTAKES}
    reused = {s.mistake for s in SLIPS if s.mistake}
    assert reused <= names and {"output-delta-gprime", "gprime-of-a", "wrong-sign", "bias-regularized-gradient"} <= \
        reused
    by = {(s.name, s.symbol): s for s in SLIPS}
    assert by[("output-delta-gprime", "deltaL")].title == "δ^(L) has a g′(z^(L)) factor (the squared-error habit)"
    assert {"gprime-forgotten", "a-is-z", "bias-included", "wrong-edge", "wrong-sign"} <= {s.name for s in SLIPS}


def test_check_sees_an_error_carried_forward(ws):
    sheet = ws.sheets[0]
    given = dict(sheet.answers)
    given["delta_1^(3)"] += 0.2  # an arithmetic slip of the student's own
    a = given["a_1^(2)"]
    given["Delta_11^(2)"] = given["delta_1^(3)"] * a  # computed right from it
    report = check_answers(sheet, given)
    rows = {r.key: r for r in report.rows if not r.right}
    assert set(rows) >= {"delta_1^(3)", "Delta_11^(2)"}
    assert rows["Delta_11^(2)"].carried_from == ("delta_1^(3)", "a_1^(2)")
    assert "follows correctly from your own δ₁⁽³⁾, a₁⁽²⁾" in rows["Delta_11^(2)"].text()


def test_answers_csv_reads_both_notations_and_names_bad_lines():
    text = "quantity,value\n# a comment\ndelta_2^(2),0.1534\nδ₁⁽³⁾,-0.5\nD_12^(1), 1.25\n"
    assert read_answers_csv(text) == {"delta_2^(2)": 0.1534, "delta_1^(3)": -0.5, "D_12^(1)": 1.25}
    with pytest.raises(ValueError, match=r"a.csv line 2: expected a number after 'z_1\^\(2\)', got 'x'"):
        read_answers_csv("z_1^(2),1\nz_1^(2),x\n", "a.csv")
    with pytest.raises(ValueError, match=r"line 1: expected a quantity such as z_1\^\(2\)"):
        read_answers_csv("q_1,2\n")
    with pytest.raises(ValueError, match="line 2: z₁⁽²⁾ is given twice"):
        read_answers_csv("z_1^(2),1\nz₁⁽²⁾,1\n")


def test_sheets_show_the_values_of_the_key(ws):
    sheet = ws.sheets[3]
    student = render.sheet_html(ws, sheet)
    key = render.sheet_html(ws, sheet, key=True)
    assert student.count("data-quantity=") == key.count("data-quantity=") == len(sheet.answers)
    shown = dict(re.findall(r'data-quantity="([^"]+)">.*?data-value="([^"]+)"', key))
    assert {k: float(v) for k, v in shown.items()} == sheet.answers
    assert 'class="answer"' not in student
    md = render.sheet_markdown(ws, sheet)
    assert "δ₂⁽²⁾ = (Θ₁₂⁽²⁾δ₁⁽³⁾ + Θ₂₂⁽²⁾δ₂⁽³⁾) · g′(z₂⁽²⁾) = ____________" in md  # the note's form
    assert "| i = 1 | " + " | ".join(glassnet.explain.text.format_number(v) for v in sheet.thetas[0][0]) + " |" in md
    assert render.key_markdown(ws).count("## Backpropagation by hand · sheet") == len(ws.sheets)


def _pdf_text_objects(pdf: bytes) -> int:
    """How many text-showing operators (Tj, TJ) the PDF's content streams hold (Flate streams inflated)."""
    count = 0
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        data = m.group(1)
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass
        count += len(re.findall(rb"(?:\)|\]|>)\s*T[jJ]\b", data))
    return count


def test_cli_worksheet_writes_every_file_and_checks(tmp_path, capsys):
    from glassnet._support.browser import find_chromium

    out = tmp_path / "sheets"
    code = main(["worksheet", "--students", "3", "--seed", "7", "--sizes", "2,2,2", "-o", str(out)])
    text, err = capsys.readouterr()
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    expected = ["answers.json", "key.html", "key.md"] + [f"student-0{k}.{s}" for k in (1, 2, 3) for s in ("html", "md")]
    if find_chromium() is None:
        assert "PDF: not written" in err and names == sorted(expected)
    else:
        assert names == sorted(expected + ["key.pdf"] + [f"student-0{k}.pdf" for k in (1, 2, 3)])
        pdf = (out / "student-02.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and _pdf_text_objects(pdf) > 20
    ws = load_worksheet(out)
    assert ws.to_dict() == make_worksheet(3, seed=7).to_dict()
    # the same sheets again: refused without --force
    assert main(["worksheet", "--students", "3", "-o", str(out), "--no-pdf"]) == 1
    assert "use --force" in capsys.readouterr().err
    # a student's answers: two right, one with g′ forgotten
    sheet = ws.sheet(2)
    tr = sheet.trace()
    forgot = tr.unit(2, 2).edge_sum
    csv = tmp_path / "answers.csv"
    csv.write_text(f"quantity,value\nz_1^(2),{sheet.answers['z_1^(2)']}\n"
                   f"δ₁⁽³⁾,{sheet.answers['delta_1^(3)']:.4f}\ndelta_2^(2),{forgot:.4f}\n", encoding="utf-8")
    code = main(["worksheet", "check", str(out), "--student", "2", str(csv)])
    text, err = capsys.readouterr()
    assert code == 1 and err == ""
    lines = text.splitlines()
    assert lines[0] == "Student 2: 2 of 36 right (within 0.001)"
    wrong = next(line for line in lines if line.startswith("✗ δ₂⁽²⁾"))
    assert "g′ forgotten" in wrong
    code = main(["worksheet", "check", str(out), "--student", "2", str(csv), "--json"])
    doc = json.loads(capsys.readouterr()[0])
    assert doc["right"] == 2 and {r["quantity"]: r["slip"] for r in doc["rows"]}["delta_2^(2)"] == "gprime-forgotten"


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["worksheet", "--students", "2", "--ask", "z,q", "-o", "{tmp}/s"], 2, "--ask: expected some of"),
    (["worksheet", "--students", "2", "--sizes", "2,7,2", "-o", "{tmp}/s"], 2, "--sizes: a sheet is done by hand"),
    (["worksheet", "--students", "2"], 2, "-o FOLDER: give the folder"),
    (["worksheet", "check", "{tmp}", "--student", "1", "{tmp}/none.csv"], 2, "none.csv: no such file"),
    (["worksheet", "check", "{tmp}", "--student", "1", "{tmp}/a.csv"], 1, "no answers.json"),
])
def test_cli_worksheet_errors_name_the_option_or_file(tmp_path, capsys, argv, code, message):
    (tmp_path / "a.csv").write_text("z_1^(2),1\n")
    assert main([a.format(tmp=tmp_path) for a in argv]) == code
    assert message in capsys.readouterr().err


def test_check_names_a_bad_csv_line(tmp_path, capsys):
    main(["worksheet", "--students", "1", "--no-pdf", "-o", str(tmp_path / "s")])
    capsys.readouterr()
    (tmp_path / "a.csv").write_text("quantity,value\nz_1^(2),1\ndelta_9^(2),0.5,7\n")
    assert main(["worksheet", "check", str(tmp_path / "s"), "--student", "1", str(tmp_path / "a.csv")]) == 1
    assert "a.csv line 3: expected two columns quantity,value" in capsys.readouterr().err


def test_quantity_keys_round_trip():
    for key in ("z_1^(2)", "delta_2^(3)", "Delta_10^(1)", "D_12,3^(1)"):
        symbol, l, idx = parse_quantity(key)
        assert quantity_key(symbol, l, *idx) == key

"""The walk for lectures: its data equals glassnet.explain's trace, and every renderer shows exactly those frames."""

from __future__ import annotations

import html
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet.cli import main
from glassnet.explain import animation, slides
from glassnet.explain.walkthrough import NOTE_THETAS, NOTE_X, NOTE_Y
from glassnet.notation import parse_quantity


def expected_value(trace, key: str) -> float:
    """A frame's quantity, read from glassnet.explain's trace of the batch (lecture indices)."""
    symbol, l, idx = parse_quantity(key)
    if symbol in ("z", "a", "delta"):
        return getattr(trace, symbol)[l][idx[0]]
    i, j = idx
    part = trace.gradients[l - 1]
    return float((part.Delta if symbol == "Delta" else part.D)[i - 1, j])


def test_every_frame_value_equals_the_trace():
    lam = 1.0
    w = glassnet.explain.walk(NOTE_THETAS, NOTE_X, NOTE_Y, lam)
    batch = glassnet.explain(list(NOTE_THETAS), NOTE_X, NOTE_Y, lam)  # the same batch, traced row by row
    assert w.m == 3 and len(w.frames) == 3 * 7 + 1
    for frame in w.frames:
        assert frame.values, frame.step.title
        for key, value in frame.values.items():
            symbol = parse_quantity(key)[0]
            if symbol == "Delta":  # Δ so far: the examples 1..t of the batch
                _, l, (i, j) = parse_quantity(key)
                want = sum(batch[t].gradients[l - 1].contribution[i - 1, j] for t in range(frame.example))
            else:
                want = expected_value(batch[(frame.example or 3) - 1], key)
            assert value == pytest.approx(want, rel=1e-12, abs=1e-15), (frame.step.title, key)
    # Δ adds up to the batch's Δ, and the last frame is the batch's D = Δ/m + (λ/m)Θ
    for l, D in enumerate(w.D, start=1):
        assert np.allclose(w.frames[-1].Delta[l - 1], batch[0].gradients[l - 1].Delta, rtol=1e-12, atol=1e-15)
        _, grads = glassnet.cost_and_gradient(list(NOTE_THETAS), NOTE_X, NOTE_Y, lam)
        assert np.allclose(D, grads[l - 1], rtol=1e-12, atol=1e-15)


def test_walk_steps_light_the_edges_the_equation_uses():
    w = glassnet.explain.walk(examples=1)
    hidden = [f for f in w.frames if f.step.phase == "hidden"]
    assert [f.step.unit for f in hidden] == [(2, 1), (2, 2)]
    assert hidden[1].step.edges == ((2, 1, 2), (2, 2, 2))  # δ₂⁽²⁾ = Θ₁₂⁽²⁾δ₁⁽³⁾ + Θ₂₂⁽²⁾δ₂⁽³⁾
    assert "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + Θ₂₂⁽²⁾·δ₂⁽³⁾ = (2)(0.9074) + (−0.5)(−0.7474)" in hidden[1].step.lines[1]
    svg = animation.frame_svgs(w)[w.frames.index(hidden[1])]
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    opacity = {e.get("id"): float(e.get("stroke-opacity")) for e in root.iter(f"{{{ns['s']}}}line")
               if (e.get("id") or "").startswith("edge-")}
    assert opacity["edge-2-1-2"] == opacity["edge-2-2-2"] == 1.0
    assert opacity["edge-2-1-1"] == opacity["edge-1-1-1"] == animation.DIM_OPACITY
    assert "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + Θ₂₂⁽²⁾·δ₂⁽³⁾ = (2)(0.9074)" in html.unescape(svg)


def test_walk_checks_its_arguments():
    with pytest.raises(ValueError, match=r"examples: expected a number of examples 1\.\.3"):
        glassnet.explain.walk(examples=4)


def test_svg_frames_one_per_step_all_the_same_size():
    w = glassnet.explain.walk(examples=2)
    svgs = animation.frame_svgs(w)
    assert len(svgs) == len(w.frames) == 15
    sizes = {(ET.fromstring(s).get("width"), ET.fromstring(s).get("height")) for s in svgs}
    assert len(sizes) == 1


def test_gif_has_one_frame_per_step():
    pytest.importorskip("matplotlib")
    Image = pytest.importorskip("PIL.Image")
    import io

    w = glassnet.explain.walk(examples=2)
    gif = animation.animation_bytes(w, "gif", seconds_per_frame=2.0)
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF" and im.n_frames == len(w.frames)
    assert im.info["duration"] == 2000


def test_mp4_without_ffmpeg_names_what_to_install(monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib import animation as mpl_animation

    monkeypatch.setattr(mpl_animation.FFMpegWriter, "isAvailable", classmethod(lambda cls: False))
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # and no imageio-ffmpeg: its import fails
    with pytest.raises(RuntimeError, match=r"MP4 output needs matplotlib and an ffmpeg program: pip install "
                                           r"'glassnet\[video\]'"):
        animation.animation_bytes(glassnet.explain.walk(examples=1), "mp4")


def test_mp4_plays_every_step_for_its_seconds_and_shows_the_gifs_pictures(tmp_path, monkeypatch):
    # an H.264 MP4 (what browsers and slide software play) with the ffmpeg of imageio-ffmpeg (the video extra) where
    # the system has none: decoded back by that ffmpeg, it holds each step's picture for seconds_per_frame at 2 frames
    # a second
    pytest.importorskip("matplotlib")
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg", reason="the video extra (make test installs it)")
    Image = pytest.importorskip("PIL.Image")
    import io
    import subprocess

    from matplotlib import animation as mpl_animation

    monkeypatch.setattr(mpl_animation.FFMpegWriter, "isAvailable", classmethod(lambda cls: False))  # as on a bare box
    w = glassnet.explain.walk(examples=1)
    mp4 = animation.animation_bytes(w, "mp4", seconds_per_frame=1.5)
    assert mp4[4:8] == b"ftyp"
    path = tmp_path / "walk.mp4"
    path.write_bytes(mp4)
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    info = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    stream = re.search(r"Video: (\w+).*?, (\d+)x(\d+).*?, (\d+(?:\.\d+)?) fps", info)
    assert stream is not None, info
    codec, width, height, fps = stream[1], int(stream[2]), int(stream[3]), float(stream[4])
    assert codec == "h264" and fps == 2 and width % 2 == height % 2 == 0 and "yuv420p" in info
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
    assert len(frames) == 3 * len(w.frames)  # round(2 × 1.5) movie frames per step
    gif = Image.open(io.BytesIO(animation.animation_bytes(w, "gif")))
    for step in (0, len(w.frames) - 1):  # the first and the last step: the GIF's picture, to video compression
        gif.seek(step)
        want = np.asarray(gif.convert("RGB"), dtype=float)
        got = frames[3 * step + 1][: want.shape[0], : want.shape[1]].astype(float)
        assert got.shape == want.shape and np.mean(np.abs(got - want)) < 6


def test_slides_hold_one_slide_per_step_with_the_trace_values():
    w = glassnet.explain.walk(lam=0.5)
    page = slides.slides_html(w)
    found = re.findall(r'<section class="slide step" id="slide-(\d+)"[^>]*data-values="([^"]*)"', page)
    assert len(found) == len(w.frames)
    for (number, values), frame in zip(found, w.frames):
        assert int(number) == w.frames.index(frame) + 1
        assert json.loads(html.unescape(values)) == frame.values
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no CDN, nothing fetched


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_walk_writes_slides_and_svg_frames(tmp_path, capsys):
    code, out, err = run(capsys, "walk", "--examples", 2, "-o", tmp_path / "deck.html")
    assert (code, err) == (0, "") and out.splitlines() == [f"wrote {tmp_path / 'deck.html'}",
                                                           "15 steps (2 examples, then D)"]
    assert (tmp_path / "deck.html").read_text().count('class="slide step"') == 15
    code, out, err = run(capsys, "walk", "--examples", 2, "-o", tmp_path / "deck.html")
    assert code == 1 and "file exists; use --force" in err
    code, out, _ = run(capsys, "walk", "--examples", 1, "--format", "svg", "-o", tmp_path / "frames", "--json")
    assert code == 0 and json.loads(out)["steps"] == 8
    assert sorted(p.name for p in (tmp_path / "frames").iterdir())[:2] == ["step-01.svg", "step-02.svg"]


def test_cli_walk_writes_an_mp4_by_its_suffix(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("imageio_ffmpeg", reason="the video extra (make test installs it)")
    code, out, err = run(capsys, "walk", "--examples", 1, "--seconds", 1, "-o", tmp_path / "walk.mp4")
    assert (code, err) == (0, "") and out.splitlines()[0] == f"wrote {tmp_path / 'walk.mp4'}"
    assert (tmp_path / "walk.mp4").read_bytes()[4:8] == b"ftyp"


def test_cli_walk_from_a_model_file(tmp_path, capsys):
    thetas = glassnet.debug_init([64, 5, 10])
    glassnet.io.save_thetas(tmp_path / "m.npz", thetas, {"lam": 0.0})
    code, out, err = run(capsys, "walk", "--model", tmp_path / "m.npz", "--examples", 2, "--example", 5,
                         "-o", tmp_path / "d.html", "--json")
    assert code == 0, err
    assert json.loads(out)["examples"] == 2


@pytest.mark.parametrize(("argv", "message"), [
    (["--examples", "9"], "--examples 9: rows 0..8 asked, but the data has rows 0..2"),
    (["--data", "digits"], "--data: only with --model"),
    (["-o", "deck.pdf"], "cannot tell the format from the suffix"),
])
def test_cli_walk_bad_arguments_name_the_option(tmp_path, capsys, argv, message):
    if "-o" not in argv:
        argv = [*argv, "-o", str(tmp_path / "d.html")]
    code, _, err = run(capsys, "walk", *argv)
    assert code == 2 and message in err


CHROMIUM = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")


def test_slide_deck_in_a_real_browser(tmp_path):
    """Chromium opens the deck offline: the right number of slides, arrow keys step, no network request."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}: run scripts/install-browser.sh or set GLASSNET_CHROMIUM")
    sync_api = pytest.importorskip("playwright.sync_api")
    w = glassnet.explain.walk()
    path = tmp_path / "deck.html"
    path.write_text(slides.slides_html(w), encoding="utf-8")
    requests = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri())
            assert page.locator("section.slide").count() == len(w.frames) + 1  # the title slide, then the steps
            assert page.locator("section.slide.step").count() == len(w.frames)
            assert page.locator("#counter").text_content() == f"1 / {len(w.frames) + 1}"
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            assert page.locator("section.slide.current").get_attribute("id") == "slide-2"
            assert page.locator("section.slide.current svg").is_visible()
            page.keyboard.press("End")
            assert "D = Δ/m + (λ/m)Θ" in page.locator("section.slide.current h2").text_content()
            page.keyboard.press("ArrowLeft")
            assert page.locator("section.slide.current").get_attribute("id") == f"slide-{len(w.frames) - 1}"
        finally:
            browser.close()
    assert requests and all(u.startswith("file://") for u in requests)

"""The walk (:func:`glassnet.explain.walk`) drawn: one picture per frame, as SVG, and as an animated GIF or MP4.

For: lectures. Each picture is the network diagram of :func:`glassnet.explain.diagram.layout` (forward view for a
forward step, backward view for the rest) with the step's edges and units lit and the others dimmed, and below it the
step's title and the lecture's equation with the example's numbers. :func:`frame_svgs` gives SVG documents (slides
made elsewhere), :func:`animation_bytes` an animated GIF (matplotlib's ``PillowWriter``) or MP4 (``FFMpegWriter``,
with the ffmpeg on PATH, else the one the ``imageio-ffmpeg`` package ships) with one movie frame per walk frame. Not
for: computing anything (every number comes from the walk) or writing files; only :func:`animation_bytes` imports
matplotlib, on first call, with an install hint when it is missing.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from glassnet.explain.diagram import Layout, Shape, _to_svg, layout
from glassnet.explain.figures import _layout_to_png
from glassnet.explain.text import format_number
from glassnet.explain.walkthrough import Frame, Walk

__all__ = ["diagram_title", "frame_layout", "frame_svgs", "frame_layouts", "animation_bytes", "FORMATS"]

#: What :func:`animation_bytes` makes, and what each needs.
FORMATS = {"gif": "matplotlib and Pillow (pip install 'glassnet[plot]')",
           "mp4": "matplotlib and an ffmpeg program: pip install 'glassnet[video]' (imageio-ffmpeg's), or one on "
                  "PATH (apt-get install ffmpeg, brew install ffmpeg, conda install ffmpeg)"}

LIT, UNIT_RING, DIM_OPACITY, DIM_INK = "#111111", 3.5, 0.12, "#c8c8c8"
_EDGE_ID = re.compile(r"^edge-(\d+)-(\d+)-(\d+)$")
_UNIT_ID = re.compile(r"^unit-(\d+)-(\d+)$")


def _trace_of(walk: Walk, frame: Frame):
    return walk.traces[(frame.example or walk.m) - 1]


def _light(lay: Layout, frame: Frame) -> None:
    """Light the frame's edges (its ``edges``, or every edge of its ``layers``) and ring its units; dim the rest."""
    step = frame.step
    edges, layers, units = set(step.edges), set(step.layers), set(step.units)
    lights_edges = bool(edges or layers)
    order: dict[str, list[bool]] = {}  # per edge group: lit flags of its weighted edges, in drawing order
    for s in lay.shapes:
        ident = s.a.get("id") or ""
        if s.kind == "line" and (m := _EDGE_ID.match(ident)):
            l, i, j = (int(v) for v in m.groups())
            lit = (l, i, j) in edges or l in layers
            if j > 0:
                order.setdefault(s.group, []).append(lit)
            if lights_edges and lit:
                s.a.update(opacity=1.0, width=max(float(s.a["width"]), 2.2))
            elif lights_edges:
                s.a.update(opacity=DIM_OPACITY)
        elif s.kind in ("circle", "rect") and (m := _UNIT_ID.match(ident)):
            if (int(m.group(1)), int(m.group(2))) in units:
                s.a.update(stroke=LIT, stroke_width=UNIT_RING)
    if not lights_edges:
        return
    for group, flags in order.items():  # the numbers written on the edges follow their edges' order
        labels = [s for s in lay.shapes if s.group == group and s.a.get("cls") == "edge-label"]
        if len(labels) == len(flags):
            for s, lit in zip(labels, flags):
                if not lit:
                    s.a["color"] = DIM_INK


def diagram_title(walk: Walk, k: int, numbered: bool = True) -> str:
    """The line above frame ``k``'s diagram: (step k of n,) the example with its x and y, the view."""
    frame = walk.frames[k]
    if frame.example:
        tr = walk.traces[frame.example - 1]
        who = (f"example {frame.example} of {walk.m}: x = ({', '.join(format_number(v) for v in tr.x)}), "
               f"y = ({', '.join(format_number(v) for v in tr.y)})") if tr.sizes[0] <= 6 else \
            f"example {frame.example} of {walk.m}"
    else:
        who = f"all {walk.m} examples (the diagram: example {walk.m})"
    view = "forward: a = g(z)" if frame.step.phase == "forward" else "backward: δ = ∂cost/∂z"
    return (f"Step {k + 1} of {len(walk.frames)} · " if numbered else "") + f"{who} · {view}"


def frame_layout(walk: Walk, k: int, *, text: bool = True) -> Layout:
    """Frame ``k`` of ``walk`` as a diagram layout: lit edges and units, and (``text``) its title and equations
    (without ``text`` the diagram's own title leaves out the step number, which a slide deck counts itself)."""
    frame = walk.frames[k]
    view = "forward" if frame.step.phase == "forward" else "backward"
    trace = _trace_of(walk, frame)
    lay = layout(trace, view, title=diagram_title(walk, k, numbered=text))
    legend = [s for s in lay.shapes if s.group == "legend"]
    top = min((float(s.a.get("y", s.a.get("y1", 0.0))) for s in legend), default=lay.height) - 10.0
    lay.shapes = [s for s in lay.shapes if s.group != "legend"]
    lay.groups.pop("legend", None)
    _light(lay, frame)
    if not text:
        lay.height = top
        return lay
    y = top + 14.0
    lay.shapes.append(Shape("text", dict(x=18.0, y=y, text=frame.step.title, size=17.0, anchor="start",
                                         weight="bold", cls="step-title"), group="main"))
    y += 30.0
    for line in frame.step.lines:
        lay.shapes.append(Shape("text", dict(x=18.0, y=y, text=line, size=14.0, anchor="start", cls="step-line"),
                                group="main"))
        y += 22.0
    width = max(float(len(s.a["text"])) * float(s.a["size"]) * (0.66 if s.a.get("weight") == "bold" else 0.6)
                + float(s.a["x"]) for s in lay.shapes if s.kind == "text" and s.a.get("anchor", "start") == "start")
    lay.width = float(max(lay.width, round(width + 24.0)))
    lay.height = float(round(y + 10.0))
    return lay


def _same_size(lays: Sequence[Layout]) -> None:
    """Every frame on the largest canvas, so that a movie or a deck does not jump (even pixels, for video codecs)."""
    w = max(lay.width for lay in lays)
    h = max(lay.height for lay in lays)
    for lay in lays:
        lay.width, lay.height = float(2 * round(w / 2 + 0.5)), float(2 * round(h / 2 + 0.5))


def frame_layouts(walk: Walk, *, text: bool = True) -> list[Layout]:
    """:func:`frame_layout` of every frame, all on one canvas size."""
    lays = [frame_layout(walk, k, text=text) for k in range(len(walk.frames))]
    _same_size(lays)
    return lays


def frame_svgs(walk: Walk, *, text: bool = True, id_prefix: str = "") -> list[str]:
    """One standalone SVG document per frame (ids prefixed ``{id_prefix}{k}-`` when ``id_prefix`` is given)."""
    out = []
    for k, lay in enumerate(frame_layouts(walk, text=text)):
        frame = walk.frames[k]
        view = "forward" if frame.step.phase == "forward" else "backward"
        out.append(_to_svg(lay, f"{id_prefix}{k}-" if id_prefix else "", view, _trace_of(walk, frame).sizes))
    return out


def _ffmpeg() -> str | None:
    """The ffmpeg program matplotlib's FFMpegWriter runs: its configured one where it exists (``animation.ffmpeg_path``,
    default ``ffmpeg`` on PATH), else the binary of the ``imageio-ffmpeg`` package; None where neither is there."""
    from matplotlib import animation, rcParams

    if animation.FFMpegWriter.isAvailable():
        return str(rcParams["animation.ffmpeg_path"])
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:  # the package without a binary for this platform
        return None


def animation_bytes(walk: Walk, format: Literal["gif", "mp4"] = "gif", *, seconds_per_frame: float = 3.0,
                    scale: float = 1.0) -> bytes:
    """``walk`` as an animated GIF or an MP4 (the file's bytes): one movie frame per walk frame, each shown for
    ``seconds_per_frame``. ``scale`` multiplies the pixel size. Raises ImportError / RuntimeError naming what to
    install when matplotlib or ffmpeg is missing."""
    if format not in FORMATS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {format!r}")
    if not seconds_per_frame > 0:
        raise ValueError(f"seconds_per_frame: expected a number > 0, got {seconds_per_frame!r}")
    try:
        import matplotlib.image as mpimg
        from matplotlib import animation, rc_context
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(f"{format.upper()} output needs {FORMATS[format]}") from None
    ffmpeg = None
    if format == "gif":
        writer: animation.AbstractMovieWriter = animation.PillowWriter(fps=1.0 / seconds_per_frame)
        repeat = 1
    else:
        ffmpeg = _ffmpeg()
        if ffmpeg is None:
            raise RuntimeError(f"MP4 output needs {FORMATS['mp4']}; no ffmpeg was found (use --format gif for an "
                               f"animation without it)")
        repeat = max(1, round(2 * seconds_per_frame))  # 2 frames per second: players cope better than with 1/3
        # H.264 in yuv420p (what browsers and slide software play), on frames padded to even sizes, which it needs
        writer = animation.FFMpegWriter(fps=2, codec="h264", extra_args=[
            "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"])
    lays = frame_layouts(walk)
    images = [mpimg.imread(io.BytesIO(_layout_to_png(lay, scale)), format="png") for lay in lays]
    h, w = images[0].shape[:2]
    dpi = 100.0
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    shown = ax.imshow(images[0], interpolation="nearest")
    with tempfile.TemporaryDirectory(prefix="glassnet-walk-") as folder:  # the writers want a file name
        path = Path(folder) / f"walk.{format}"
        with rc_context({"animation.ffmpeg_path": ffmpeg} if ffmpeg else {}), writer.saving(fig, str(path), dpi=dpi):
            for image in images:
                shown.set_data(image)
                for _ in range(repeat):
                    writer.grab_frame()
        return path.read_bytes()

"""Loaders for the user's own data files: CSV, ``.npz`` and MATLAB ``.mat`` (the course's ``ex4data1.mat``).

Files are treated as hostile: sizes are capped (``max_bytes``), ``.npz`` headers are checked before anything is
allocated, nothing is unpickled, and ``.mat`` files are parsed by scipy in a child process (``_matreader.py``, beside
this module) with a memory limit and a timeout, so a crafted file can neither crash nor hang the caller. A malformed
file always raises :class:`glassnet.DataError` naming the file and the problem (a missing file raises
:class:`FileNotFoundError`).

Not for: the built-in datasets (see :mod:`.builtin`) or model files (see :mod:`glassnet.io`).
"""

from __future__ import annotations

import array
import bisect
import codecs
import csv
import itertools
import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._support.memory import CONVERTED_ITEMSIZE
from glassnet._support.npzfile import read_npz
from glassnet._support.paths import existing_file
from glassnet._validation import check_thetas, compute_dtype
from glassnet.datasets._base import Dataset
from glassnet.errors import DataError

__all__ = ["load_csv", "csv_columns", "load_npz", "load_mat", "load_mat_thetas", "load_file", "format_of", "FORMATS",
           "SUFFIXES", "CHUNKED_FORMATS", "MAX_BYTES", "MAX_CSV_BYTES", "MAX_CSV_COLUMNS", "MAT_TIMEOUT",
           "MAT_IMAGE_ORDER"]

#: Every data-file suffix glassnet reads and the format it names: the one table that :func:`load_file`, the chunked
#: reader (:func:`glassnet.scale.distributed.read_chunks`), the CLI's ``--data`` and the explorer's upload all follow.
#: ``.txt`` is CSV text (comma-separated, as ``numpy.savetxt(path, a, delimiter=",")`` writes it), read like ``.csv``
#: everywhere: in memory by :func:`load_csv` and chunk by chunk by Dask.
FORMATS: dict[str, str] = {".csv": "csv", ".txt": "csv", ".npz": "npz", ".mat": "mat", ".parquet": "parquet",
                           ".pq": "parquet"}
#: The formats the chunked (Dask) reader knows; ``.mat`` has none, so those files are read whole.
CHUNKED_FORMATS = ("csv", "npz", "parquet")

#: Default size limit for ``.npz`` and ``.mat`` files and for any single array in them (1 GiB).
MAX_BYTES = 1 << 30
#: Default size limit for CSV files (256 MiB: parsing text costs several times the file size in memory).
MAX_CSV_BYTES = 256 << 20
#: A header with more columns than this is refused before any row is parsed.
MAX_CSV_COLUMNS = 100_000
#: Default wall-clock limit in seconds for parsing one ``.mat`` file in the child process.
MAT_TIMEOUT = 60.0
#: How MATLAB unrolls an image into a row: column by column. The course's ``.mat`` data (``ex4data1.mat``) and the
#: weights trained on it (``ex4weights.mat``: the rows of Θ⁽¹⁾) both follow it.
MAT_IMAGE_ORDER = "F"

# The .mat reader runs as a script by path (``python -P _matreader.py``), not as ``-m glassnet...``: the child then
# imports nothing of glassnet, only numpy and scipy, and -P keeps this folder off its sys.path.
_READER_SCRIPT = Path(__file__).with_name("_matreader.py")
# Seconds the child may take to start Python and import numpy + scipy.io (not counted in `timeout`).
_STARTUP_GRACE = 30.0
# Address-space limit of the child: interpreter + numpy/scipy (~200 MB virtual) + room for decompressing and
# copying arrays up to max_bytes.
_MAT_MEMORY_BASE = 768 << 20


def _file(path) -> Path:
    return existing_file(path, not_regular=DataError)


def _check_max_bytes(max_bytes) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or max_bytes < 1:
        raise ValueError(f"max_bytes: expected a positive int (bytes), got {max_bytes!r}")
    return int(max_bytes)


def _check_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"{path}: file is {size} bytes, more than the limit max_bytes={max_bytes}")
    if size == 0:
        raise DataError(f"{path}: file is empty")


def _labels(y: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Labels as a 1-D int64 array where they are whole numbers, else as they are (floats or strings)."""
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1:
        raise DataError(f"{path}: {what} must be a vector of labels of shape (m,), got shape {y.shape}")
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype.kind in "iu":
        if y.dtype.kind == "u" and y.size and int(y.max()) > np.iinfo(np.int64).max:
            raise DataError(f"{path}: {what} holds labels up to {int(y.max())}, too large for int64")
        return y.astype(np.int64, copy=False)
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            i = int(np.flatnonzero(~np.isfinite(y))[0])
            raise DataError(f"{path}: {what} must hold finite labels, found {y[i]} at index {i}")
        if (y == np.round(y)).all() and np.abs(y).max(initial=0) < 2**53:
            return y.astype(np.int64)
    return y


def feature_limit(dtype) -> float:
    """The largest \\|x\\| a data file's feature may hold in ``dtype``: its square summed over 10⁸ terms stays finite
    (float64: about 1.3e150, float32: about 1.8e15). Larger values are finite but overflow in the first sum of
    squares, mean or plot extent, so a file holding one is refused when it is read, not later and unclearly."""
    return math.sqrt(float(np.finfo(dtype).max) / 1e8)


def _check_range(X: np.ndarray, describe: Callable[[int, int], str]) -> None:
    """Refuse (DataError) a finite feature beyond :func:`feature_limit`; ``describe(row, column)`` names where."""
    limit = feature_limit(X.dtype)
    if X.size == 0 or max(float(X.max()), -float(X.min())) <= limit:  # two passes, no (m, n) temporary
        return
    r, c = np.argwhere(np.abs(X) > limit)[0]
    raise DataError(f"{describe(int(r), int(c))}: {float(X[r, c]):.6g} is too large; glassnet reads features up to "
                    f"±{limit:.2g} (larger ones overflow when squared or summed): rescale the data")


def _features(X: np.ndarray, path: Path, what: str) -> np.ndarray:
    if X.ndim != 2:
        raise DataError(f"{path}: {what} must be a 2-D array of shape (m, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{path}: {what} must have at least one example and one feature, got shape {X.shape}")
    X = X.astype(compute_dtype(X), copy=False)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{path}: {what} must be finite, found {X[r, c]} at row {r}, column {c}")
    _check_range(X, lambda r, c: f"{path}: {what}, row {r}, column {c}")
    return X


def _pair(X: np.ndarray, y: np.ndarray, path: Path, xname: str, yname: str) -> None:
    if X.shape[0] != y.shape[0]:
        raise DataError(f"{path}: {xname} has {X.shape[0]} rows but {yname} has {y.shape[0]} labels")


def _target_names(y: np.ndarray) -> list[str]:
    return [str(c) for c in np.unique(y)]


def _is_header(row: list[str]) -> bool:
    """Whether a CSV file's first row names the columns: yes unless every field of it reads as a number (then it is
    an example, as in a file written by ``numpy.savetxt``). The one home of this rule for every CSV reader here."""
    try:
        for cell in row:
            float(cell)
    except ValueError:
        return True
    return False


def _blank(row: list[str]) -> bool:
    """A CSV row with nothing in it (an empty line, or one empty field): skipped by every reader here."""
    return not row or (len(row) == 1 and not row[0].strip())


def _column_names(first: list[str], header: bool) -> list[str]:
    """The columns' names: the header's fields, or ``col_0, col_1, ...`` for a file without a header row."""
    return [c.strip() for c in first] if header else [f"col_{j}" for j in range(len(first))]


def csv_columns(path, *, delimiter: str = ",") -> tuple[list[str], bool]:
    """``(names, has_header)`` of a CSV file, from its first non-blank row (the rest of the file is not read).

    The rule of :func:`load_csv` with ``header=None``: the first row names the columns unless every field of it is a
    number; then it is an example and the columns are named ``col_0, col_1, ...``. The chunked readers
    (:func:`glassnet.scale.distributed.read_chunks`, the CLI's ``--dask-scheduler``) use it, so a file without a header
    loses no row there either. An empty file gives ``([], False)``.
    """
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.reader(f, delimiter=delimiter):
            if not _blank(row):
                header = _is_header(row)
                return _column_names(row, header), header
    return [], False


def load_csv(
    path,
    label_column: int | str | None = -1,
    *,
    header: bool | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    max_bytes: int = MAX_CSV_BYTES,
) -> Dataset:
    """Read a CSV file of numeric features and one label column.

    Parameters
    ----------
    path : str or path-like
    label_column : int, str or None, default -1
        The label column, by position (negative counts from the end) or by its name in the header row. All other
        columns are features and must be numbers. ``None``: the file has no labels (every column is a feature, e.g.
        new examples to predict); the returned ``y`` is then ``None``.
    header : bool or None, default None
        Whether the first row names the columns. ``None``: it does unless every field of it is a number (a file
        written by ``numpy.savetxt`` has no header; its first row is an example, never dropped). Without a header,
        columns are named ``col_0, col_1, ...``.
    delimiter : str, default ","
    encoding : str, default "utf-8"
        A UTF-8 byte-order mark is skipped.
    max_bytes : int
        Files larger than this are refused before reading (default 256 MiB).

    Returns
    -------
    Dataset
        X: (m, n) float64; y: (m,) int64 when every label is a whole number, else the label strings.

    Raises
    ------
    DataError
        Naming the file, line and column: ragged rows, text or empty cells among the features, NaN/inf, missing
        labels, undecodable bytes, a header with more than ``MAX_CSV_COLUMNS`` columns, no data rows, ...
    """
    path = _file(path)
    max_bytes = _check_max_bytes(max_bytes)
    if label_column is not None and (not isinstance(label_column, (int, np.integer, str))
                                     or isinstance(label_column, bool)):
        raise TypeError(f"label_column: expected a column index (int), a name (str) or None, got {label_column!r}")
    _check_size(path, max_bytes)
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    _check_text(path, codec, encoding)
    # parsed as a stream (never the whole text in memory): memory stays proportional to the numbers read
    with open(path, newline="", encoding=codec) as f:
        return _parse_csv(path, csv.reader(f, delimiter=delimiter), label_column, header)


def _check_text(path: Path, codec: str, encoding: str) -> None:
    """Refuse a file with NUL bytes or bytes that are not ``codec`` text, naming the line; one streamed pass."""
    try:
        decoder = codecs.getincrementaldecoder(codec)()
    except LookupError:
        raise ValueError(f"encoding: unknown text encoding {encoding!r}") from None
    lines_before = offset = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if b"\x00" in chunk:
                raise DataError(f"{path}: contains NUL bytes; expected a text CSV file (is it binary?)")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = max(min(exc.start, len(chunk)), 0)
                line = lines_before + chunk[:at].count(b"\n") + 1
                raise DataError(f"{path}: not valid {encoding} text at line {line} (byte {offset + at})") from None
            lines_before += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataError(f"{path}: not valid {encoding} text at line {lines_before + 1} (the file ends inside a "
                            "character)") from None


class _Lines:
    """The file line of each data row, stored only where it departs from the row's order (blank lines, quoted line
    breaks): 8 bytes per departure instead of per row."""

    def __init__(self):
        self.rows, self.shifts = array.array("q"), array.array("q")
        self.count = 0
        self._shift: int | None = None

    def append(self, line: int) -> None:
        shift = line - self.count
        if shift != self._shift:
            self.rows.append(self.count)
            self.shifts.append(shift)
            self._shift = shift
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> int:
        k = bisect.bisect_right(self.rows, i) - 1
        return int(i + self.shifts[k])


def _parse_csv(path: Path, reader, label_column, header: bool | None) -> Dataset:
    """:func:`load_csv` from its ``csv.reader`` on: the header, the label column, the numbers and the checks."""

    def rows():
        """Non-blank rows with their line numbers; csv errors become DataError."""
        try:
            for row in reader:
                if not _blank(row):
                    yield reader.line_num, row
        except csv.Error as exc:
            raise DataError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from None

    stream = rows()
    line, first = next(stream, (0, None))
    if first is None:
        raise DataError(f"{path}: no header and no data rows")
    if header is None:
        header = _is_header(first)
        if not header and isinstance(label_column, str):
            raise DataError(f"{path}: label column {label_column!r} is named, but the first row holds only numbers "
                            "(no header row); give the label column by index")
    if len(first) > MAX_CSV_COLUMNS:
        raise DataError(f"{path}: {'header' if header else f'line {line}'} has {len(first)} columns, more than the "
                        f"limit {MAX_CSV_COLUMNS}")
    names = _column_names(first, header)
    n_cols = len(names)
    if n_cols < (1 if label_column is None else 2):
        raise DataError(f"{path}: has {n_cols} column; expected at least one feature column and a label column")
    if label_column is None:
        j_label = None
    elif isinstance(label_column, str):
        if not header:
            raise ValueError(f"label_column: a column name ({label_column!r}) needs header=True; pass an index")
        hits = [j for j, nm in enumerate(names) if nm == label_column.strip()]
        if not hits:
            shown = ", ".join(repr(n) for n in names[:20]) + (" ..." if n_cols > 20 else "")
            raise DataError(f"{path}: no column named {label_column!r}; the header has {shown}")
        if len(hits) > 1:
            raise DataError(f"{path}: the header names {len(hits)} columns {label_column!r} (columns {hits})")
        j_label = hits[0]
    else:
        j_label = int(label_column)
        if not -n_cols <= j_label < n_cols:
            raise ValueError(f"label_column: index {label_column} is out of range for {n_cols} columns in {path}")
        j_label %= n_cols
    feature_cols = [j for j in range(n_cols) if j != j_label]
    if j_label is None:
        j_label = n_cols  # past the last column: the slices below then take every field as a feature
    n_features = len(feature_cols)
    # Numbers go straight into a flat C array of doubles (8 bytes each; X is a view of it, not a copy) and labels into
    # 4-byte codes, so memory stays proportional to the numbers, whatever text the file holds.
    values, codes, lines = array.array("d"), array.array("i"), _Lines()
    label_codes: dict[str, int] = {}
    data = stream if header else itertools.chain([(line, first)], stream)
    for line, row in data:
        if len(row) != n_cols:
            raise DataError(f"{path}: line {line} has {len(row)} fields, expected {n_cols} "
                            f"(as in the {'header' if header else 'first row'})")
        label = row[j_label].strip() if j_label < n_cols else "-"
        if not label:
            raise DataError(f"{path}: line {line}, column {names[j_label]!r}: missing label")
        try:
            values.extend(map(float, row[:j_label] + row[j_label + 1:]))
        except ValueError:
            for j in feature_cols:
                cell = row[j].strip()
                try:
                    float(cell)
                except ValueError:
                    problem = "an empty cell" if not cell else f"text {cell[:40]!r}"
                    raise DataError(f"{path}: line {line}, column {names[j]!r}: expected a number, "
                                    f"found {problem}") from None
        codes.append(label_codes.setdefault(label, len(label_codes)))
        lines.append(line)
    if not lines:
        raise DataError(f"{path}: header only, no data rows")
    X = np.frombuffer(values, dtype=np.float64).reshape(len(lines), n_features)
    bad = ~np.isfinite(X)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise DataError(f"{path}: line {lines[i]}, column {names[feature_cols[k]]!r}: expected a finite number, "
                        f"found {float(X[i, k])}")
    _check_range(X, lambda i, k: f"{path}: line {lines[i]}, column {names[feature_cols[k]]!r}")
    if j_label == n_cols:
        return Dataset(X, None, [names[j] for j in feature_cols], [],
                       f"CSV file {path.name}: {X.shape[0]} rows, {X.shape[1]} features, no labels.", path.name)
    texts = list(label_codes)
    try:
        as_numbers = np.array([float(t) for t in texts])
    except ValueError:
        as_numbers = None
    code_array = np.frombuffer(codes, dtype=np.int32)
    if as_numbers is not None and np.isfinite(as_numbers).all() and (as_numbers == np.round(as_numbers)).all() \
            and np.abs(as_numbers).max() < 2**53:
        y = as_numbers.astype(np.int64)[code_array]
    else:  # text labels, or fractional numbers (names of classes, not amounts): keep the text as written
        width = max(len(t) for t in texts)
        # a fixed-width str array costs m × the longest label; past 256 MiB, share the label objects instead
        y = np.array(texts, dtype=object if len(lines) * width * 4 > 256 << 20 else str)[code_array]
    return Dataset(X, y, [names[j] for j in feature_cols], _target_names(y),
                   f"CSV file {path.name}: {X.shape[0]} rows, {X.shape[1]} features, label column "
                   f"{names[j_label]!r} (index {j_label}), {len(np.unique(y))} classes.", path.name,
                   extra={"label_name": names[j_label]})


def load_npz(path, X_key: str = "X", y_key: str = "y", *, max_bytes: int = MAX_BYTES) -> Dataset:
    """Read examples and labels from a ``.npz`` file (as written by ``numpy.savez(path, X=X, y=y)``).

    Parameters
    ----------
    path : str or path-like
    X_key, y_key : str
        Names of the arrays: X of shape (m, n) with numbers, y of shape (m,) or (m, 1) with integer, float or
        string labels. Other arrays in the file are ignored.
    max_bytes : int
        Size limit for the file and for the arrays it declares (default 1 GiB).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Not a zip/npz, missing keys, object (pickled) arrays, headers that claim more than ``max_bytes``,
        truncated data, wrong shapes, NaN/inf in X.
    """
    path = _file(path)
    max_bytes = _check_max_bytes(max_bytes)
    _check_size(path, max_bytes)
    arrays = read_npz(path, [X_key, y_key], error=DataError, kinds="biuf" + "US", max_bytes=max_bytes)
    if arrays[X_key].dtype.kind in "US":
        raise DataError(f"{path}: array {X_key!r} holds text (dtype {arrays[X_key].dtype}); expected numbers")
    X = _features(arrays[X_key], path, f"array {X_key!r}")
    y = arrays[y_key]
    if y.dtype.kind == "S":
        y = y.astype(str)
    y = _labels(y, path, f"array {y_key!r}")
    _pair(X, y, path, f"array {X_key!r}", f"array {y_key!r}")
    return Dataset(X, y, [f"x{j}" for j in range(X.shape[1])], _target_names(y),
                   f"npz file {path.name}: X from {X_key!r} {X.shape}, y from {y_key!r}.", path.name)


def _mat_memory_limit(max_bytes: int) -> int:
    return _MAT_MEMORY_BASE + 4 * max_bytes


def _run_mat_reader(jobs: list[dict], timeout: float, mem_limit: int, tmp: Path) -> tuple[list[dict], str | None]:
    """Run one child over ``jobs``; returns the results it reported and, if it stopped early, why."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    spec = json.dumps({"mem_limit": mem_limit, "jobs": jobs}).encode()
    lines: queue.Queue = queue.Queue()
    results: list[dict] = []
    with open(tmp / "stderr.txt", "w+b") as err:
        proc = subprocess.Popen([sys.executable, "-P", str(_READER_SCRIPT)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, env=env)
        assert proc.stdin is not None and proc.stdout is not None  # both are pipes

        def pump():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        try:
            try:
                proc.stdin.write(spec)
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # the child died before reading: reported below as a crash
            for k in range(-1, len(jobs)):  # k = -1: the child's "ready" line after its imports
                try:
                    line = lines.get(timeout=_STARTUP_GRACE if k < 0 else timeout)
                except queue.Empty:
                    if k < 0:
                        return results, f"the .mat reader did not start within {_STARTUP_GRACE:g} s"
                    return results, f"parsing took longer than the timeout of {timeout:g} s (the reader was stopped)"
                if line is None:
                    rc = proc.wait()
                    if rc < 0:
                        try:
                            sig = signal.Signals(-rc).name
                        except ValueError:
                            sig = str(-rc)
                        why = f"the .mat reader crashed (signal {sig}) while parsing it"
                    else:
                        err.seek(0)
                        tail = err.read()[-300:].decode("utf-8", "replace").strip().splitlines()
                        why = f"the .mat reader died (exit code {rc}{': ' + tail[-1] if tail else ''})"
                    return results, why
                try:
                    message = json.loads(line)
                except ValueError:
                    return results, "the .mat reader sent garbage"
                if k >= 0:
                    results.append(message)
            return results, None
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            thread.join(timeout=5)
            proc.stdout.close()


def _read_mat_files(
    requests: Sequence[tuple[Path, Sequence[str] | None, str | None]],
    *,
    timeout: float,
    max_bytes: int,
) -> list[dict[str, np.ndarray] | DataError]:
    """Parse many ``.mat`` files in as few child processes as possible.

    ``requests`` holds ``(path, names, regex)``: load the variables ``names``, or all whose name matches ``regex``.
    Each result is the dict of arrays, or the :class:`DataError` for that file; one file that crashes or hangs
    the reader costs a restart, not the other files.
    """
    results: list = [None] * len(requests)
    mem_limit = _mat_memory_limit(max_bytes)
    with tempfile.TemporaryDirectory(prefix="glassnet-mat-") as tmpdir:
        tmp = Path(tmpdir)
        jobs: list[tuple[int, dict[str, Any]]] = []
        for i, (path, names, regex) in enumerate(requests):
            try:
                _check_size(path, max_bytes)
            except DataError as exc:
                results[i] = exc
                continue
            jobs.append((i, {"path": str(path), "out": str(tmp / f"out{i}.npz"), "max_bytes": max_bytes,
                             "converted_itemsize": CONVERTED_ITEMSIZE,
                             "names": list(names) if names is not None else None, "regex": regex}))
        while jobs:
            reported, stopped = _run_mat_reader([job for _, job in jobs], timeout, mem_limit, tmp)
            for (i, job), rep in zip(jobs, reported):
                path = requests[i][0]
                if not rep.get("ok"):
                    results[i] = DataError(f"{path}: {rep.get('error', 'unreadable .mat file')}")
                    continue
                try:
                    out = read_npz(job["out"], rep["names"], error=DataError, kinds="biuf", max_bytes=max_bytes)
                except DataError as exc:  # the child's own output is bad: treat like a crash
                    results[i] = DataError(f"{path}: the .mat reader returned unusable data ({exc})")
                else:
                    results[i] = out
                finally:
                    Path(job["out"]).unlink(missing_ok=True)
            done = len(reported)
            if stopped is not None:
                i = jobs[done][0]
                results[i] = DataError(f"{requests[i][0]}: {stopped}")
                done += 1
            jobs = jobs[done:]
    return results


def _check_timeout(timeout) -> float:
    try:
        val = float(timeout)
    except (TypeError, ValueError):
        raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}") from None
    if not (val > 0 and math.isfinite(val)):
        raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}")
    return val


def _read_mat(path, names, regex, timeout, max_bytes) -> tuple[Path, dict[str, np.ndarray]]:
    path = _file(path)
    (result,) = _read_mat_files([(path, names, regex)], timeout=_check_timeout(timeout),
                                max_bytes=_check_max_bytes(max_bytes))
    if isinstance(result, DataError):
        raise result
    return path, result


def load_mat(
    path,
    X_key: str = "X",
    y_key: str = "y",
    *,
    digit_labels: bool | None = None,
    image_shape: tuple[int, int] | None = None,
    timeout: float = MAT_TIMEOUT,
    max_bytes: int = MAX_BYTES,
) -> Dataset:
    """Read the course's ``ex4data1.mat`` (or any MATLAB v4-v7 file with a numeric X and y).

    In ``ex4data1.mat`` X is 5000 × 400: each row is a 20×20 grey image unrolled column by column (MATLAB order),
    and y is 5000 × 1 with labels 1..10 where **10 stands for the digit 0** (MATLAB has no index 0). This loader
    maps label 10 to 0 so that y holds the digits 0..9, and says so in ``Dataset.description``. X keeps the file's
    column order, so weights trained by the course (``ex4weights.mat``) apply unchanged; use
    :meth:`Dataset.images` to get upright 20×20 images.

    Parameters
    ----------
    path : str or path-like
    X_key, y_key : str
        Variable names in the file.
    digit_labels : bool or None, default None
        Map label 10 to 0. ``None``: when the labels lie in 1..10 and include 10 (the course's coding).
        ``True``: always, refusing labels outside 1..10. ``False``: never.
    image_shape : (h, w) or None
        Shape of one image; by default a square side when n is a perfect square of at least 16 (20×20 for 400
        features), else no image shape. Pixels are taken as column-major, MATLAB's order.
    timeout : float
        Seconds allowed for parsing (default 60); the child process is killed after that.
    max_bytes : int
        Size limit for the file and the arrays it declares (default 1 GiB); the child's memory limit follows it.

    Returns
    -------
    Dataset
        X: (m, n) float64; y: (m,) int64.

    Raises
    ------
    DataError
        Not a .mat file, v7.3 (HDF5) files, missing variables, non-numeric variables (cell, struct, char, sparse),
        headers that claim more than ``max_bytes``, corrupt data, a reader crash, a timeout, wrong shapes, NaN/inf.
    """
    if digit_labels not in (None, True, False):
        raise ValueError(f"digit_labels: expected None, True or False, got {digit_labels!r}")
    path, arrays = _read_mat(path, [X_key, y_key], None, timeout, max_bytes)
    X = _features(arrays[X_key], path, f"variable {X_key!r}")
    y = _labels(arrays[y_key], path, f"variable {y_key!r}")
    _pair(X, y, path, f"variable {X_key!r}", f"variable {y_key!r}")
    if y.dtype.kind != "i":
        raise DataError(f"{path}: variable {y_key!r} must hold integer class labels, found {y[y != np.round(y)][0]}")
    in_course_range = bool(((y >= 1) & (y <= 10)).all())
    if digit_labels and not in_course_range:
        bad = y[(y < 1) | (y > 10)][0]
        raise DataError(f"{path}: digit_labels=True expects labels in 1..10 (10 meaning digit 0), found {bad}")
    mapped = bool(digit_labels) or (digit_labels is None and in_course_range and bool((y == 10).any()))
    note = ""
    if mapped:
        y = np.where(y == 10, 0, y)
        note = " Labels: the file's 10 (MATLAB's stand-in for digit 0) was mapped to 0, so y holds digits 0..9."
    n = X.shape[1]
    order = MAT_IMAGE_ORDER
    if image_shape is None:
        side = math.isqrt(n)
        image_shape = (side, side) if side * side == n and n >= 16 else None
    elif (len(image_shape) != 2 or math.prod(image_shape) != n):
        raise ValueError(f"image_shape: expected (h, w) with h*w = {n} features, got {image_shape!r}")
    pixels = f" Rows are {image_shape[0]}×{image_shape[1]} images unrolled column-major." if image_shape else ""
    return Dataset(X, y, [f"x{j + 1}" for j in range(n)], _target_names(y),
                   f"MATLAB file {path.name}: X from {X_key!r} {X.shape}, y from {y_key!r}.{pixels}{note}",
                   path.name, (image_shape[0], image_shape[1]) if image_shape else None, order,
                   extra={"labels_mapped": mapped})


def load_mat_thetas(path, *, timeout: float = MAT_TIMEOUT, max_bytes: int = MAX_BYTES) -> list[np.ndarray]:
    """Read course weights (``Theta1``, ``Theta2``, ...) from a ``.mat`` file such as ``ex4weights.mat``.

    Returns
    -------
    list of ndarray
        ``[Θ^(1), Θ^(2), ...]`` as float64, ``thetas[l - 1]`` of shape (s_{l+1}, s_l + 1), bias column first.

    Raises
    ------
    DataError
        No ``ThetaN`` variables, a gap in the numbering, shapes that do not chain, NaN/inf, or any problem that
        :func:`load_mat` reports for a malformed file.
    """
    path, arrays = _read_mat(path, None, r"Theta[1-9][0-9]{0,3}", timeout, max_bytes)
    numbers = sorted(int(k[len("Theta"):]) for k in arrays)
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        raise DataError(f"{path}: weights must be Theta1, Theta2, ... without gaps; missing "
                        f"{', '.join(f'Theta{k}' for k in missing)}")
    try:  # thetas[k - 1] is Theta{k}: the messages' Θ^(k)
        return check_thetas([arrays[f"Theta{k}"] for k in expected], np.float64)[0]
    except ValueError as exc:
        raise DataError(f"{path}: the weights do not form a network: {exc}") from None


def format_of(path) -> str | None:
    """The format a data file's suffix names in :data:`FORMATS` (``"csv"``, ``"npz"``, ``"mat"``, ``"parquet"``), in
    any letter case; None for a suffix glassnet does not read."""
    return FORMATS.get(Path(os.fspath(path)).suffix.lower())


_LOADERS: dict[str, Callable[..., Dataset]] = {"csv": load_csv, "npz": load_npz, "mat": load_mat}
#: File suffixes :func:`load_file` reads in memory, in the order of :data:`FORMATS`: ``.csv .txt .npz .mat``.
SUFFIXES = tuple(suffix for suffix, fmt in FORMATS.items() if fmt in _LOADERS)


def load_file(path, **kwargs) -> Dataset:
    """A data file read by the loader its suffix names: ``.csv``/``.txt``, ``.npz`` or ``.mat``; ``kwargs`` passed on.

    Raises ``ValueError`` for an unknown suffix, :class:`FileNotFoundError` for a missing file.
    """
    path = Path(path)
    loader = _LOADERS.get(format_of(path) or "")
    if loader is None:
        raise ValueError(f"source: cannot tell the format of {path} from its suffix; expected one of "
                         f"{', '.join(SUFFIXES)} (or call load_csv/load_npz/load_mat directly)")
    return loader(path, **kwargs)

"""Child-process ``.mat`` reader for :mod:`glassnet.datasets.files`; run as a script, never imported by the package.

scipy's MATLAB reader is C/Cython code that was not written for hostile input: a crafted file can make it allocate
without bound, loop for a long time or crash the interpreter. :mod:`glassnet.datasets.files` therefore runs this script
in a child process (``python -P _matreader.py``) with a memory limit (``RLIMIT_AS``), no core dumps, a cap on the size
of files it may write, and a wall-clock timeout enforced by the parent. The child imports only numpy and scipy.

Protocol: one JSON object on stdin, ``{"mem_limit": bytes, "jobs": [job, ...]}`` where each job is
``{"path": str, "out": str, "max_bytes": int, "names": [str, ...] | null, "regex": str | null}``. Once numpy and
scipy are imported the child prints ``{"ready": true}``; then, for each job in order, the child lists the file's
variables (``scipy.io.whosmat``), refuses non-numeric classes (cell, struct,
object, sparse, char, ...) and any variable whose header claims more than ``max_bytes``, loads the selected
variables, writes them with ``numpy.savez`` to ``out`` and prints one JSON line ``{"i": i, "ok": true, "names":
[...]}`` or ``{"i": i, "ok": false, "error": "..."}``. A job that crashes or hangs the child prints nothing; the
parent notices, reports that job and starts a new child for the rest.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys

# MATLAB classes that map to plain numeric arrays (scipy's whosmat names), with their item size in bytes.
NUMERIC_CLASSES = {
    "double": 8, "single": 4, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2,
    "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "logical": 1,
}


def _limit_resources(mem_limit: int, fsize_limit: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the parent's timeout is the only guard
        return
    for which, value in ((resource.RLIMIT_AS, mem_limit), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_FSIZE, fsize_limit)):
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):  # a stricter limit already in force is fine
            pass


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _run_job(job: dict) -> dict:
    import numpy as np
    from scipy.io import loadmat, whosmat

    path, max_bytes = job["path"], int(job["max_bytes"])
    try:
        listing = whosmat(path)
    except NotImplementedError as exc:  # v7.3 files are HDF5
        return {"ok": False, "error": f"unsupported .mat version ({_describe(exc)}); save it with -v7 or older"}
    except MemoryError:
        return {"ok": False, "error": "listing its variables needs more memory than the reader's limit "
                                      f"({job['mem_limit']} bytes)"}
    except Exception as exc:  # any reader failure means the file is malformed
        return {"ok": False, "error": f"not a readable .mat file ({_describe(exc)})"}
    found: dict[str, tuple] = {}
    for entry in listing:
        if len(entry) == 3:
            found.setdefault(str(entry[0]), (tuple(entry[1]), str(entry[2])))
    if job.get("regex"):
        names = sorted(n for n in found if re.fullmatch(job["regex"], n))
        if not names:
            return {"ok": False, "error": f"no variable matching {job['regex']!r}; the file holds {sorted(found)}"}
    else:
        names = list(job["names"])
        missing = [n for n in names if n not in found]
        if missing:
            return {"ok": False, "error": f"missing variable(s) {missing}; the file holds {sorted(found)[:20]}"}
    total = 0
    for n in names:
        shape, cls = found[n]
        if cls not in NUMERIC_CLASSES:
            return {"ok": False, "error": f"variable {n!r} is a MATLAB {cls} array; expected a numeric matrix"}
        if any(int(d) < 0 for d in shape):
            return {"ok": False, "error": f"variable {n!r} has a negative dimension in its header: {shape}"}
        count = math.prod(int(d) for d in shape)
        nbytes = count * NUMERIC_CLASSES[cls]
        # the bytes once converted for computing: the array plus its float64 copy (the parent's rule,
        # glassnet._support.memory.converted_nbytes, passed in the job as the copy's item size; this child imports no
        # glassnet)
        total += nbytes + (0 if cls == "double" else count * int(job.get("converted_itemsize", 8)))
        if total > max_bytes:
            return {"ok": False, "error": f"variable {n!r} claims shape {shape} ({nbytes} bytes of {cls}; "
                                          f"{total} bytes in all once converted), more than the limit "
                                          f"max_bytes={max_bytes}"}
    try:
        data = loadmat(path, variable_names=names, squeeze_me=False, chars_as_strings=False)
    except MemoryError:
        return {"ok": False,
                "error": f"parsing it needs more memory than the reader's limit ({job['mem_limit']} bytes)"}
    except Exception as exc:
        return {"ok": False, "error": f"corrupt .mat file ({_describe(exc)})"}
    arrays = {}
    for n in names:
        arr = data.get(n)
        if not isinstance(arr, np.ndarray) or arr.dtype.hasobject or arr.dtype.kind not in "biuf":
            kind = type(arr).__name__ if not isinstance(arr, np.ndarray) else f"dtype {arr.dtype}"
            return {"ok": False, "error": f"variable {n!r} did not load as a numeric array (got {kind})"}
        if tuple(arr.shape) != found[n][0]:
            return {"ok": False, "error": f"variable {n!r} has shape {arr.shape}, its header said {found[n][0]}"}
        arrays[n] = arr
    np.savez(job["out"], **arrays)  # type: ignore[arg-type]  # mypy: **arrays might fill allow_pickle
    return {"ok": True, "names": names}


def main() -> int:
    spec = json.loads(sys.stdin.read())
    # The protocol gets its own copy of stdout; anything else printed (by Python or C code) goes to stderr.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    limit = int(spec["mem_limit"])
    _limit_resources(limit, fsize_limit=limit)
    import warnings

    import numpy  # noqa: F401 - imported before "ready", so start-up time is not charged to the first file
    import scipy.io  # noqa: F401

    warnings.simplefilter("ignore")  # scipy's MatReadWarning etc.: the parent validates every array anyway
    protocol.write(json.dumps({"ready": True}) + "\n")
    protocol.flush()
    for i, job in enumerate(spec["jobs"]):
        job["mem_limit"] = limit
        try:
            result = _run_job(job)
        except MemoryError:
            result = {"ok": False, "error": f"parsing it needs more memory than the reader's limit ({limit} bytes)"}
        except Exception as exc:  # report, never die on one bad file
            result = {"ok": False, "error": f"the reader failed ({_describe(exc)})"}
        result["i"] = i
        protocol.write(json.dumps(result) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())

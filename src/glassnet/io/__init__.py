"""Files that hold networks: glassnet's own model files (:mod:`glassnet.io.models`, one loader for every format) and
the exchange formats of other tools (:mod:`glassnet.io.interop`: scikit-learn, Nielsen's JSON, the course's .mat).

Not for: data sets (see :mod:`glassnet.datasets`).
"""

from __future__ import annotations

from glassnet.io.models import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_MODEL_BYTES,
    atomic_write,
    checkpoint_path,
    input_image_order,
    load,
    load_any,
    load_checkpoint,
    load_thetas,
    model_format,
    save,
    save_checkpoint,
    save_thetas,
)

__all__ = ["save", "load", "load_any", "model_format", "input_image_order", "save_thetas", "load_thetas",
           "save_checkpoint", "load_checkpoint", "checkpoint_path", "atomic_write", "FORMAT_NAME", "FORMAT_VERSION",
           "MAX_MODEL_BYTES"]

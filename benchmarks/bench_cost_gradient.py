"""J(Θ) + gradient: glassnet vs scikit-learn vs torch, one process, same data (the same as ``glassnet bench``).

Usage (see benchmarks/README.md):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_cost_gradient.py [--quick] [--profile]
"""

import sys

from glassnet.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

"""The one thing pyproject.toml cannot declare stably: the optional C kernels (see glassnet/_support/fused.py).

Optional: where no C compiler is found, pip installs glassnet without them and the NumPy code, which gives the same
numbers, runs instead. -ffp-contract=off: no fused multiply-add, so every operation rounds exactly as NumPy's does;
-fno-math-errno lets the compiler vectorize sqrt (it never sets errno on the values it gets here); -fno-trapping-math
lets it vectorize the branch-free selects of _vexp.h's exponential (nothing here unmasks floating-point traps; it
changes no result, unlike -ffast-math).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("glassnet._support._kernels", ["src/glassnet/_support/_kernels.c"], optional=True,
                             depends=["src/glassnet/_support/_epoch.h", "src/glassnet/_support/_vexp.h"],
                             extra_compile_args=["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-pthread"],
                             extra_link_args=["-pthread"])])

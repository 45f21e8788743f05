# Set-up-and-go targets: each creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
DOCS_STAMP := $(VENV)/.installed-docs
DEMO_STAMP := $(VENV)/.installed-demo

NODE_STAMP := node_modules/.installed-lint

.PHONY: demo lint lint-js widget test test-fast bench install clean browser octave bwrap docs

$(STAMP): pyproject.toml setup.py src/glassnet/_support/_kernels.c src/glassnet/_support/_epoch.h src/glassnet/_support/_vexp.h
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo needs the core and matplotlib only (not the test tools, torch, Dask or MkDocs of the dev extra).
$(DEMO_STAMP): pyproject.toml setup.py src/glassnet/_support/_kernels.c src/glassnet/_support/_epoch.h src/glassnet/_support/_vexp.h
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[plot]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(PY) -m glassnet demo

# Debian's chromium for the explorer's browser tests; never fails (the tests then skip with a message).
browser:
	@sh scripts/install-browser.sh

# Debian's GNU Octave for grading students' .m files (tests/test_grade_octave.py); never fails (the tests then skip).
octave:
	@sh scripts/install-octave.sh

# Debian's bubblewrap, the sandbox of graded files; never fails (without it the grader says what isolation is left).
bwrap:
	@sh scripts/install-bwrap.sh

# The gates: ruff (style, imports, likely bugs) and mypy (types), both configured in pyproject.toml; ESLint for the
# explorer's ES modules (eslint.config.js).
lint: $(STAMP) lint-js
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m mypy

# ESLint from package-lock.json into node_modules/ (git-ignored), once; without npm this fails and says so.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make lint: npm (Node.js 18.18 or newer) is needed to run ESLint on" \
		"src/glassnet/server/static; install Node.js (e.g. apt-get install nodejs npm) and run make lint again" >&2; \
		exit 1; }
	npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

lint-js: $(NODE_STAMP)
	npx --no-install eslint src/glassnet/server/static src/glassnet/widget/front
	node scripts/build-widget.mjs --check

# The notebook widget's one ES module (src/glassnet/widget/static/widget.js, committed): rebuild it with esbuild after
# changing the page's modules (server/static) or the widget's (widget/front); make lint checks that it is current.
widget: $(NODE_STAMP)
	node scripts/build-widget.mjs

test: lint browser octave bwrap
	$(PY) -m pytest src tests README.md

# The unit tests in a minute or two: no browser, no documentation build or notebooks, no slow end-to-end runs (the
# markers are registered in pyproject.toml and given in tests/conftest.py's LANES). pytest's exit code 5, no tests
# collected, fails this target like any other failure.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser and not docs" src tests README.md

# The documentation site into site/: notebooks executed, offline, strict (any warning fails the build).
$(DOCS_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --clean

bench: $(STAMP)
	# The peers (JAX + optax, torch, scikit-learn): the bench extra, installed into the same environment.
	$(PY) -m pip install --quiet -e '.[bench]'
	# Some machines set these for old OpenBLAS builds; they slow a current numpy (benchmarks only, never tests).
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_cost_gradient.py --profile \
		--out benchmarks/results/bench_cost_gradient.json
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_dask.py --out benchmarks/results/bench_dask.json
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_training.py \
		--out benchmarks/results/bench_training.json

clean:
	rm -rf $(VENV) node_modules build dist site src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

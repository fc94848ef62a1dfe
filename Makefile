# autograd_lite: `make lab` opens the course, `make test` runs the tests.
# Both set everything up on first use; all you need is Python 3.10+ and make.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
JUPYTER := $(CURDIR)/$(VENV)/bin/jupyter
STAMP  := $(VENV)/.installed
EXTRAS := course,test,dev

# Jupyter refuses to start as root unless told to (containers, Binder-like boxes).
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.DEFAULT_GOAL := help
.PHONY: help install lab lab-instructor test test-deep test-browser notebooks release autograde feedback formgrader grades grade-demo html slides test-slides bench clean

help: ## List the targets
	@echo "Usage: make <target>"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-15s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the package with all extras (reruns only when pyproject.toml changes)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "autograd_lite needs Python 3.10 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)." >&2; \
		  echo "Run with PYTHON=/path/to/python3.X." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[$(EXTRAS)]'
	@touch $@

# Extras on top of the base install, each with its own stamp: .venv/.installed-browser, -teach.
$(VENV)/.installed-%: pyproject.toml | $(STAMP)
	$(PY) -m pip install -e '.[$*]'
	@touch $@

# A student opens their own copies of the released notebooks (no solutions, no outputs) in workspace/;
# a new release adds the notebooks they do not have yet and never overwrites one they have. nbgrader's
# instructor tools (create assignment, formgrader, validate without the hidden tests) stay out of their lab.
lab: course/.released ## Open the course in JupyterLab: your own copies of the exercises, in workspace/
	$(PY) .ci/grading.py workspace
	JUPYTER_CONFIG_PATH=$(CURDIR)/.ci/student-lab $(JUPYTER) lab $(ALLOW_ROOT) workspace/

# Jupyter hides the stored graphs (SVG) of notebooks it does not trust: trust the course's own first.
lab-instructor: install ## Open the instructor's notebooks (solutions, hidden tests, outputs) in JupyterLab
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then $(JUPYTER) trust notebooks/*.ipynb >/dev/null; fi
	$(JUPYTER) lab $(ALLOW_ROOT) notebooks/

test: install ## Run the unit tests, then check that every notebook's outputs still match
	$(PYTEST) -q tests
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
		echo "$(PYTEST) -q --nbval notebooks/ --nbval-sanitize-with notebooks/sanitize.cfg"; \
		$(PYTEST) -q --nbval notebooks/ --nbval-sanitize-with notebooks/sanitize.cfg; \
	else \
		echo "No notebooks/*.ipynb yet: skipping the notebook check."; \
	fi

test-deep: install ## Run every test, including the slow ones (AUTOGRAD_LITE_DEEP=1), and the notebooks 3x
	AUTOGRAD_LITE_DEEP=1 $(PYTEST) -q -m "slow or not slow" tests
	@# stable in class: the notebooks give the same outputs whatever Python's hash seed
	@for seed in 1 2 3; do \
		echo "PYTHONHASHSEED=$$seed $(PYTEST) -q --nbval notebooks/ --nbval-sanitize-with notebooks/sanitize.cfg"; \
		PYTHONHASHSEED=$$seed $(PYTEST) -q --nbval notebooks/ --nbval-sanitize-with notebooks/sanitize.cfg || exit 1; \
	done

test-browser: install $(VENV)/.installed-browser course/.released html slides ## Run every notebook (and the released ones) in JupyterLab in headless Chromium; open the HTML and slides offline
	$(PY) .ci/browser_test.py --student course/release --html build/html --slides build/slides

notebooks: install ## Re-execute every notebook top to bottom in a fresh kernel, in place
	@set -e; cd notebooks; for nb in *.ipynb; do \
		[ -e "$$nb" ] || { echo "No notebooks/*.ipynb to run."; break; }; \
		echo "executing notebooks/$$nb"; \
		$(JUPYTER) nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False "$$nb"; \
	done

# Grading with nbgrader, in course/ (git ignores it): one assignment per notebook.
release: course/.released ## course/release/: the student notebooks (nbgrader generate_assignment) and their zip

course/.released: $(STAMP) $(wildcard notebooks/*.ipynb) .ci/grading.py
	$(PY) .ci/grading.py release
	@touch $@

autograde: course/.released ## Grade the submissions in course/submitted/<student>/<assignment>/
	$(PY) .ci/grading.py autograde

feedback: install ## HTML feedback for each graded submission, in course/feedback/
	$(PY) .ci/grading.py feedback

formgrader: course/.released ## Grade the explain-why answers by hand: JupyterLab in course/, menu Nbgrader > Formgrader
	cd course && $(JUPYTER) lab $(ALLOW_ROOT)

grades: install ## Export the gradebook as course/grades.csv (for an LMS)
	$(PY) .ci/grading.py grades

grade-demo: install ## Release, submit three synthetic students per assignment, autograde, check the scores
	$(PY) .ci/grading.py demo

html: install $(VENV)/.installed-teach ## build/html/: the course as static HTML that works offline
	$(PY) .ci/course_builds.py html

slides: install $(VENV)/.installed-teach ## build/slides/: reveal.js slides that work offline (reveal.js via npm)
	$(PY) .ci/course_builds.py slides

test-slides: install $(VENV)/.installed-browser slides ## Open every slide at 1280x720 in headless Chromium (fit, title slide, counts, screenshots)
	$(PY) .ci/browser_test.py --builds-only --slides build/slides

bench: install ## Run the benchmarks (benchmarks/run.py)
	@if [ -f benchmarks/run.py ]; then \
		echo "$(PY) benchmarks/run.py"; $(PY) benchmarks/run.py; \
	else \
		echo "No benchmarks/run.py yet."; \
	fi

clean: ## Remove .venv, caches and build artefacts
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis .ruff_cache
	find . -path ./.git -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

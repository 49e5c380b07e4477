# Quick start: `make demo` and `make test`. The first use creates .venv/ and
# installs the pinned stack and this checkout (in place, see setup.py's
# develop_in_place); later runs reuse it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEMO_DIR := work_dirs/demo
DEMO_CONFIG := configs/demo/inception_v3_1xb16_shapes.py

.PHONY: install demo test docs clean-demo

install: $(INSTALLED)

$(INSTALLED): setup.py requirements/runtime.txt requirements/mminstall.txt requirements/tests.txt requirements/docs.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned, so nothing else pulls another build
	$(PY) -m pip install -r requirements/runtime.txt
	$(PY) -m pip install -r requirements/mminstall.txt -r requirements/tests.txt -r requirements/docs.txt
	# in place, not `pip install -e .`, so that read_base() and mim find the
	# files (setup.py, DevelopInPlace); drop an editable install made before
	$(PY) -m pip uninstall --yes --quiet mmpre_inception 2>/dev/null || true
	$(PY) setup.py --quiet develop_in_place
	touch $(INSTALLED)

demo: $(INSTALLED)
	rm -rf $(DEMO_DIR)
	$(PY) tools/dataset_converters/make_synthetic_imagenet.py $(DEMO_DIR)/data
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) "$$(cat $(DEMO_DIR)/last_checkpoint)" \
		--work-dir $(DEMO_DIR)/test --out $(DEMO_DIR)/test/predictions.pkl
	$(PY) tools/analysis_tools/analyze_logs.py plot_curve \
		$(DEMO_DIR)/2*/vis_data/2*.json --out $(DEMO_DIR)/learning_curves.png
	$(PY) tools/analysis_tools/confusion_matrix.py $(DEMO_CONFIG) \
		$(DEMO_DIR)/test/predictions.pkl --include-values \
		--show-path $(DEMO_DIR)/confusion_matrix.png \
		--out $(DEMO_DIR)/confusion_matrix.csv
	@echo "Checkpoint: $$(cat $(DEMO_DIR)/last_checkpoint)"
	@echo "Training log: $$(ls $(DEMO_DIR)/2*/2*.log)"
	@echo "Predictions: $(DEMO_DIR)/test/predictions.pkl"
	@echo "Pictures: $(DEMO_DIR)/learning_curves.png, $(DEMO_DIR)/confusion_matrix.png"

# Everything CI runs: the style check (setup.cfg) and the layer contracts
# (.importlinter), then every test, those marked `slow` included. The numeric
# comparisons (`numerics`) then run again on the kernels another CPU would
# pick (ATen without AVX2/AVX-512, oneDNN at SSE4.1), so a tolerance that
# holds only for this CPU's rounding fails here, not on the next machine.
# Two pytest-xdist workers of one thread each (tests/conftest.py), a test
# file per worker: most of a tool's test is single-threaded Python (imports,
# building the Runner), so two workers take about 0.6 times one's time on
# the 2-core machine (docs/benchmark.md).
PYTEST := $(PY) -m pytest -n 2 --dist loadfile

test: $(INSTALLED)
	$(VENV)/bin/flake8 mmpre_inception tools tests demo setup.py
	$(VENV)/bin/lint-imports --config .importlinter
	$(PYTEST) tests
	ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 \
		$(PYTEST) tests -m numerics -p no:cacheprovider

# The documentation site (docs/_build/html); any Sphinx warning fails it.
docs: $(INSTALLED)
	rm -rf docs/_build
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "Site: docs/_build/html/index.html"

clean-demo:
	rm -rf $(DEMO_DIR)

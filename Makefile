# Quick start: `make demo` and `make test`. The first use creates .venv/ with
# the tested versions of the stack (requirements/constraints.txt) and this
# checkout installed editable (`pip install -e .`); `make install` and
# `make test` also .venv-floors/ with the oldest versions setup.py admits
# (requirements/floors.txt). Later runs reuse them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
REQUIREMENTS := setup.py pyproject.toml $(wildcard requirements/*.txt)
DEMO_DIR := work_dirs/demo
DEMO_CONFIG := configs/demo/inception_v3_1xb16_shapes.py
# The oldest versions the package declares (requirements/floors.txt).
FLOORS_VENV := .venv-floors
FLOORS_INSTALLED := $(FLOORS_VENV)/.installed

.PHONY: install demo test test-numerics test-floors docs clean-demo

install: $(INSTALLED) $(FLOORS_INSTALLED)

# torch first, so that no other package pulls another build of it.
$(INSTALLED): $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# what `setup.py develop_in_place` left before `pip install -e .`
	rm -f $(VENV)/lib/python*/site-packages/mmpre_inception-checkout.pth
	$(PY) -m pip install -c requirements/constraints.txt torch torchvision
	$(PY) -m pip install -c requirements/constraints.txt \
		-r requirements/mminstall.txt -r requirements/tests.txt \
		-r requirements/docs.txt -e .
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
# (.importlinter), then every test, those marked `slow` included. Then two
# passes side by side, each on one core, their output printed as each ends:
# the numeric comparisons (`numerics`) again on the kernels another CPU
# would pick (ATen without AVX2/AVX-512, oneDNN at SSE4.1), so a tolerance
# that holds only for this CPU's rounding fails here, not on the next
# machine; and the tests of the code that depends on the stack's versions
# on its oldest declared versions (test-floors). One after the other, each
# left a core idle for much of its time.
# Two pytest-xdist workers of one thread each (tests/conftest.py), a test
# file per worker: most of a tool's test is single-threaded Python (imports,
# building the Runner), so two workers take about 0.6 times one's time on
# the 2-core machine (docs/benchmark.md).
PYTEST_WORKERS ?= 2
PYTEST = -m pytest -n $(PYTEST_WORKERS) --dist loadfile
# The tests' temporary files (training checkpoints of 390 MB, written,
# synced and deleted) in memory, on /dev/shm, where the machine has room
# for them: on the 2-core machine's ext4 disk, writing and syncing them
# took about 35 s of kernel time and 25 s of the first pass's 5:45
# (docs/benchmark.md). Folders named for the checkout, which pytest
# empties as a run starts; each pass removes its folder when it passes, a
# failing one leaves the failed tests' files there. Elsewhere (/dev/shm not
# writable, under 8 GiB free there or under 16 GiB of available memory),
# pytest's default folder in /tmp.
TEST_TMP := $(shell { \
	test "$$(awk '/^MemAvailable:/ {print $$2}' /proc/meminfo)" -ge 16777216 && \
	test -w /dev/shm && \
	test "$$(df -Pk /dev/shm | awk 'NR == 2 {print $$4}')" -ge 8388608 && \
	echo /dev/shm/mmpre_inception-tests-$$(id -u)-$$(printf %s '$(CURDIR)' | \
		cksum | cut -d' ' -f1); } 2>/dev/null)
basetemp = $(if $(TEST_TMP),--basetemp=$(TEST_TMP)-$(1))
drop_basetemp = $(if $(TEST_TMP),rm -rf $(TEST_TMP)-$(1))

test: $(INSTALLED) $(FLOORS_INSTALLED)
	$(VENV)/bin/flake8 mmpre_inception tools tests demo benchmarks setup.py
	$(VENV)/bin/lint-imports .importlinter
	$(PY) $(PYTEST) tests $(call basetemp,all)
	$(call drop_basetemp,all)
	$(MAKE) --no-print-directory -j2 --output-sync=target PYTEST_WORKERS=1 \
		TEST_TMP=$(TEST_TMP) test-numerics test-floors

test-numerics: $(INSTALLED)
	ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 \
		$(PY) $(PYTEST) tests -m numerics -p no:cacheprovider \
		$(call basetemp,numerics)
	$(call drop_basetemp,numerics)

# The tests of what depends on the versions of torch, timm, mmengine and
# mmpretrain (the optimizer's step, checkpoints and a resume, configs,
# private APIs, the tools' start-up, dynamo's trace of the training step), on
# the oldest versions setup.py admits. The rest of the suite runs on what
# those tests cover (a tool's run, a checkpoint's read) plus our own code.
FLOORS_TESTS := tests/test_training_step.py tests/test_checkpoint_errors.py \
	tests/test_private_apis.py tests/test_configs.py \
	tests/test_tool_startup.py \
	tests/test_compile.py::test_the_compiled_training_step_trains_as_eager \
	tests/test_tools.py::test_resume_continues_from_the_last_checkpoint \
	tests/test_no_work_lost.py::test_last_checkpoint_is_replaced_by_a_rename

test-floors: $(FLOORS_INSTALLED)
	$(FLOORS_VENV)/bin/python $(PYTEST) $(FLOORS_TESTS) -p no:cacheprovider \
		$(call basetemp,floors)
	$(call drop_basetemp,floors)

$(FLOORS_INSTALLED): $(REQUIREMENTS)
	test -x $(FLOORS_VENV)/bin/python || $(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install -c requirements/floors.txt \
		torch torchvision
	$(FLOORS_VENV)/bin/python -m pip install -c requirements/floors.txt \
		-r requirements/mminstall.txt -r requirements/tests.txt -e .
	touch $(FLOORS_INSTALLED)

# The documentation site (docs/_build/html); any Sphinx warning fails it.
docs: $(INSTALLED)
	rm -rf docs/_build
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "Site: docs/_build/html/index.html"

clean-demo:
	rm -rf $(DEMO_DIR)

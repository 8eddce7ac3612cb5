# Two commands a newcomer needs: `make demo` and `make test`. Each builds its own environment
# with uv (installed from PyPI into .cache/uv-bootstrap); nothing has to be installed by hand.
PYTHON      ?= python3
PYENV_ROOT  ?= $(HOME)/.pyenv
# An interpreter that runs: pyenv's own build of that version first (pyenv's shims refuse versions
# that are not selected), then one on PATH. Empty when neither exists; the venv rule then fails loudly.
find_python = $(firstword $(foreach p,$(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)) \
                $(shell command -v python$(1) 2>/dev/null),$(shell "$(p)" -c "print('$(p)')" 2>/dev/null)))
# flytekit 1.16 supports 3.9-3.12: the oldest environment runs on the oldest, the newest on the newest.
OLDEST_PYTHON ?= $(call find_python,3.9)
MIDDLE_PYTHON ?= $(call find_python,3.11)
NEWEST_PYTHON ?= $(call find_python,3.12)
CACHE       := .cache
UV_BOOT     := $(CACHE)/uv-bootstrap
UV          := $(UV_BOOT)/bin/uv
VENVS       := .venvs
export UV_CACHE_DIR ?= $(CURDIR)/$(CACHE)/uv

# newest: latest flytekit 1.16.x with kubernetes 37 (pydantic models; 37.0.2 cannot be installed beside flytekit),
# and the [schema] extra (kubernetes-validate); the other two run without it
NEWEST_REQS := "flytekit>=1.16,<1.17" "kubernetes==37.0.1" \
               flytekitplugins-ray flytekitplugins-kfpytorch flytekitplugins-kfmpi flytekitplugins-dask
# oldest: the oldest supported flytekit on the oldest Python; kubernetes 36 needs Python 3.10, so 35 (classic models)
OLDEST_REQS := "flytekit==1.16.0" "kubernetes>=35,<36" \
               "flytekitplugins-kfpytorch==1.16.0" "flytekitplugins-kfmpi==1.16.0" "flytekitplugins-dask==1.16.0"
# middle: the oldest flytekit with kubernetes 36 (the last classic models) on Python 3.11
MIDDLE_REQS := "flytekit==1.16.0" "kubernetes>=36,<37" \
               "flytekitplugins-kfpytorch==1.16.0" "flytekitplugins-kfmpi==1.16.0" "flytekitplugins-dask==1.16.0"
TEST_REQS   := "pytest>=8" "hypothesis>=6.100" "ruff>=0.6"

.PHONY: test test-newest test-middle test-oldest test-reverse demo bench lint clean envs

$(UV):
	$(PYTHON) -m venv $(UV_BOOT)
	$(UV_BOOT)/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.4"

$(VENVS)/%/.ready: setup.py | $(UV)
	@py='$($(shell echo $* | tr a-z A-Z)_PYTHON)'; if [ -z "$$py" ]; then \
	  echo "error: no Python interpreter for the $* environment (wanted: $(if $(filter oldest,$*),3.9,$(if $(filter middle,$*),3.11,3.12)));" \
	       "install it (e.g. pyenv install) or set $(shell echo $* | tr a-z A-Z)_PYTHON=/path/to/python" >&2; exit 1; fi
	rm -rf $(VENVS)/$*
	$(UV) venv --quiet --python '$($(shell echo $* | tr a-z A-Z)_PYTHON)' $(VENVS)/$*
	VIRTUAL_ENV=$(CURDIR)/$(VENVS)/$* $(UV) pip install --quiet --compile-bytecode \
		$($(shell echo $* | tr a-z A-Z)_REQS) $(TEST_REQS) -e ".$(if $(filter newest,$*),[schema])"
	touch $@

envs: $(VENVS)/newest/.ready $(VENVS)/middle/.ready $(VENVS)/oldest/.ready

test: test-oldest test-middle test-newest test-reverse lint

test-newest: $(VENVS)/newest/.ready
	@echo "== flytekit 1.16.x (newest) + kubernetes 37.0.1 (pydantic models), $$($(VENVS)/newest/bin/python -V)"
	$(VENVS)/newest/bin/python -m pytest -q tests

test-middle: $(VENVS)/middle/.ready
	@echo "== flytekit 1.16.0 + kubernetes 36 (classic models), $$($(VENVS)/middle/bin/python -V)"
	$(VENVS)/middle/bin/python -m pytest -q tests

# the same suite with the test files in reverse order: no test may depend on what an earlier file did
test-reverse: $(VENVS)/newest/.ready
	@echo "== reverse file order, flytekit 1.16.x (newest), $$($(VENVS)/newest/bin/python -V)"
	$(VENVS)/newest/bin/python -m pytest -q $$(ls tests/test_*.py tests/e2e/test_*.py | sort -r)

test-oldest: $(VENVS)/oldest/.ready
	@echo "== flytekit 1.16.0 (oldest) + kubernetes 35 (classic models), $$($(VENVS)/oldest/bin/python -V)"
	$(VENVS)/oldest/bin/python -m pytest -q tests

lint: $(VENVS)/newest/.ready
	$(VENVS)/newest/bin/ruff check flytekitplugins tests benchmarks examples

demo: $(VENVS)/newest/.ready
	$(VENVS)/newest/bin/python examples/demo.py

bench: $(VENVS)/newest/.ready
	$(VENVS)/newest/bin/python benchmarks/run.py

clean:
	rm -rf $(VENVS) $(CACHE) demo-out

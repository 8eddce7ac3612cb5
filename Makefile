# Two commands a newcomer needs: `make demo` and `make test`. Each builds its own environment
# with uv (installed from PyPI into .cache/uv-bootstrap); nothing has to be installed by hand.
PYTHON      ?= python3
CACHE       := .cache
UV_BOOT     := $(CACHE)/uv-bootstrap
UV          := $(UV_BOOT)/bin/uv
VENVS       := .venvs
export UV_CACHE_DIR ?= $(CURDIR)/$(CACHE)/uv

# newest: latest flytekit 1.16.x with kubernetes 37 (pydantic models; 37.0.2 cannot be installed beside flytekit)
NEWEST_REQS := "flytekit>=1.16,<1.17" "kubernetes==37.0.1" \
               flytekitplugins-ray flytekitplugins-kfpytorch flytekitplugins-kfmpi flytekitplugins-dask
# oldest: the oldest supported flytekit with kubernetes 36 (classic models)
OLDEST_REQS := "flytekit==1.16.0" "kubernetes>=36,<37" \
               "flytekitplugins-kfpytorch==1.16.0" "flytekitplugins-kfmpi==1.16.0" "flytekitplugins-dask==1.16.0"
TEST_REQS   := "pytest>=8" "hypothesis>=6.100" "ruff>=0.6"

.PHONY: test test-newest test-oldest demo bench lint clean envs

$(UV):
	$(PYTHON) -m venv $(UV_BOOT)
	$(UV_BOOT)/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.4"

$(VENVS)/%/.ready: setup.py | $(UV)
	rm -rf $(VENVS)/$*
	$(UV) venv --quiet --python $(PYTHON) $(VENVS)/$*
	VIRTUAL_ENV=$(CURDIR)/$(VENVS)/$* $(UV) pip install --quiet --compile-bytecode \
		$($(shell echo $* | tr a-z A-Z)_REQS) $(TEST_REQS) -e .
	touch $@

envs: $(VENVS)/newest/.ready $(VENVS)/oldest/.ready

test: test-oldest test-newest lint

test-newest: $(VENVS)/newest/.ready
	@echo "== flytekit 1.16.x (newest) + kubernetes 37.0.1 (pydantic models)"
	$(VENVS)/newest/bin/python -m pytest -q tests

test-oldest: $(VENVS)/oldest/.ready
	@echo "== flytekit 1.16.0 (oldest) + kubernetes 36 (classic models)"
	$(VENVS)/oldest/bin/python -m pytest -q tests

lint: $(VENVS)/newest/.ready
	$(VENVS)/newest/bin/ruff check flytekitplugins tests benchmarks examples

demo: $(VENVS)/newest/.ready
	$(VENVS)/newest/bin/python examples/demo.py

bench: $(VENVS)/newest/.ready
	$(VENVS)/newest/bin/python benchmarks/run.py

clean:
	rm -rf $(VENVS) $(CACHE) demo-out

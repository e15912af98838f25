# yizhan — two commands: `make run` (a whole simulated hall) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
# Tests mostly wait on subprocesses (servers, brokers, browsers): three workers keep two cores busy.
TEST_WORKERS ?= 3
STAMP := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml | md5sum | cut -c1-8)

.PHONY: run test venv system-run system-test check-config clean

run: system-run $(STAMP)
	$(VENV)/bin/yizhan demo

test: system-test $(STAMP)
	@# The device tests share the machine's one pcscd (/run/pcscd): they run on their own first.
	$(VENV)/bin/python -m pytest -q tests/devices $(PYTEST_ARGS)
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --ignore=tests/devices $(PYTEST_ARGS)

venv: $(STAMP)

$(STAMP): constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "需要 Python 3.11 / Python 3.11 is required"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

system-run:
	@scripts/system-deps.sh run

system-test:
	@scripts/system-deps.sh test

check-config: $(STAMP)
	$(VENV)/bin/yizhan check-config

clean:
	rm -rf $(VENV) var .pytest_cache

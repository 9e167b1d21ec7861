# multicluster.canary — developer and CI entry points.
#
#   make test     unit + sanity + lint, then the local federation and the integration tests
#   make demo     bring the local federation up and run playbooks/demo.yml against it
#
# Everything runs from the virtualenv in $(VENV), built from test-requirements.txt.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
VENV_DIR := $(abspath $(VENV))
PY := $(VENV_DIR)/bin/python
VENV_STAMP := $(VENV_DIR)/.requirements-installed

# The ansible pip package installs its collections (kubernetes.core among them)
# into site-packages/ansible_collections. Recursive on purpose: the venv may not
# exist yet when make reads this file.
SITE_PACKAGES = $(firstword $(wildcard $(VENV_DIR)/lib/python3*/site-packages))

# Our collection as ansible_collections.multicluster.canary: a relative symlink
# back to the repository root, so a moved checkout still resolves.
COLLECTIONS_DIR := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/multicluster/canary

export ANSIBLE_COLLECTIONS_PATH = $(COLLECTIONS_DIR):$(SITE_PACKAGES)
export PATH := $(VENV_DIR)/bin:$(PATH)

PYTEST_ARGS ?=
# The lab suites print their slowest tests, so a slow CI run says where its time went.
LAB_PYTEST_ARGS := --durations=12
LINT_ARGS ?=
# empty: the lab's own (`python -m tools.lab inventory`: inventories/lab for the default four members)
INVENTORY ?=

# The lab's version profile (tools/lab/versions.json): empty means the running lab's, else the file's
# default (`latest`, the newest upstream versions the lab builds); `MCC_LAB_PROFILE=min make test` runs
# everything on the oldest supported versions.
MCC_LAB_PROFILE ?=
export MCC_LAB_PROFILE

# ansible-test needs a real tree named .../ansible_collections/NAMESPACE/NAME and
# only tests the files inside it, so sanity runs on a copy of the tracked (and
# new, not ignored) files. The copy gets a `git init` of its own: ansible-test
# lists content with git from the nearest .git upwards, and in this repository
# build/ is ignored, which would leave it nothing to test.
SANITY_DIR := $(CURDIR)/build/sanity
SANITY_ROOT := $(SANITY_DIR)/ansible_collections/multicluster/canary
SANITY_PYTHON ?= 3.11
SANITY_ARGS ?=
ANSIBLE_TEST_CACHE_DIR := $(HOME)/.ansible/test/cache

.PHONY: help venv collection-link unit sanity lint integration test \
	lab-up lab-down lab-down-check lab-status demo playbook-test awx-test changelog clean distclean molecule bench

help:
	@echo "make demo         bring up the local federation and run playbooks/demo.yml"
	@echo "make test         unit, sanity, lint, lab-up, integration, playbook-test, lab-down"
	@echo "make unit | sanity | lint | integration | changelog"
	@echo "make lab-up | lab-down | lab-status"
	@echo "make bench        with the lab up: stage costs against baselines of the same run (bench/README.md)"
	@echo "make venv | collection-link | clean | distclean"
	@echo "options: PYTEST_ARGS=..., SANITY_ARGS='--test validate-modules', LINT_ARGS=..."
	@echo "         MCC_LAB_PROFILE=min|latest (lab versions, tools/lab/versions.json; default latest)"

# --- environment -----------------------------------------------------------

venv: $(VENV_STAMP)

$(VENV_STAMP): test-requirements.txt requirements.txt
	@test -n "$(PYTHON)" || { echo "python3.11 not found on PATH" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV_DIR)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r test-requirements.txt
	touch $@

collection-link: $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

# --- tests -----------------------------------------------------------------

# pytest exits 5 when it collects nothing; an empty tests/unit is not a failure.
unit: $(VENV_STAMP) $(COLLECTION_LINK)
	@if [ ! -d tests/unit ]; then echo "unit: no tests/unit directory, nothing to run"; exit 0; fi; \
	rc=0; $(PY) -m pytest tests/unit -q $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "unit: no tests collected"; exit 0; fi; \
	exit $$rc

# The get-pip stand-in goes where ansible-test looks for its cached bootstrap
# script, named after the pip version this ansible-test pins (get_pip_24_2.py
# for ansible-core 2.19). The kubernetes.core from the venv is linked beside
# our collection so that import and validate-modules resolve its module_utils.
sanity: $(VENV_STAMP)
	rm -rf $(SANITY_DIR)
	mkdir -p $(SANITY_ROOT) $(SANITY_DIR)/ansible_collections/kubernetes
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard \
			| tar --null --ignore-failed-read -T - -cf - \
			| tar -C $(SANITY_ROOT) -xf - ; \
	else \
		tar --exclude=./.venv --exclude=./build --exclude=./.lab --exclude=./.git \
			--exclude=./tests/output --exclude=./.ansible -cf - . \
			| tar -C $(SANITY_ROOT) -xf - ; \
	fi
	git init --quiet $(SANITY_ROOT)
	ln -sfn $(SITE_PACKAGES)/ansible_collections/kubernetes/core $(SANITY_DIR)/ansible_collections/kubernetes/core
	@pip_version=$$($(PY) -c "from types import SimpleNamespace; \
		from ansible_test._internal.python_requirements import get_venv_packages; \
		print(get_venv_packages(SimpleNamespace(version='$(SANITY_PYTHON)'))['pip'].replace('.', '_'))"); \
	mkdir -p $(ANSIBLE_TEST_CACHE_DIR); \
	install -m 0644 tests/sanity/get_pip_stub.py $(ANSIBLE_TEST_CACHE_DIR)/get_pip_$$pip_version.py; \
	echo "sanity: pip bootstrap stand-in at $(ANSIBLE_TEST_CACHE_DIR)/get_pip_$$pip_version.py"
	cd $(SANITY_ROOT) && $(VENV_DIR)/bin/ansible-test sanity --venv --python $(SANITY_PYTHON) --color no $(SANITY_ARGS)

lint: $(VENV_STAMP) $(COLLECTION_LINK)
	$(VENV_DIR)/bin/ansible-lint $(LINT_ARGS)

# Runs only when tests/integration holds test files; those tests need the lab.
integration: $(VENV_STAMP) $(COLLECTION_LINK)
	@if [ -z "$$(find tests/integration -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | head -1)" ]; then \
		echo "integration: no tests in tests/integration, nothing to run"; exit 0; fi; \
	rc=0; $(PY) -m pytest tests/integration -q $(LAB_PYTEST_ARGS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "integration: no tests collected"; exit 0; fi; \
	exit $$rc

# Every stage runs even when an earlier one failed, so one CI run reports all
# failures; the lab is torn down whatever integration did, integration runs
# only on a lab that came up, and the exit status is that of the first failure.
# Each stage's output is also kept in build/test-logs/STAGE.log, and the end of a failed stage's log is
# printed again after the summary: the failure is the last thing a CI log shows.
test: $(VENV_STAMP) $(COLLECTION_LINK)
	@status=0; failed=""; mkdir -p build/test-logs; \
	step() { local rc=0; $(MAKE) --no-print-directory "$$@" 2>&1 | tee "build/test-logs/$$1.log"; rc=$${PIPESTATUS[0]}; \
		if [ $$rc -ne 0 ]; then failed="$$failed $$1"; [ $$status -ne 0 ] || status=$$rc; fi; return $$rc; }; \
	step unit || true; \
	step sanity || true; \
	step lint || true; \
	if step lab-up LAB_ARGS="--members 4"; then step integration || true; step playbook-test || true; step awx-test || true; \
	step molecule || true; \
	else echo "test: lab-up failed, integration, playbook-test, awx-test and molecule skipped" >&2; fi; \
	step lab-down || true; \
	step lab-down-check || true; \
	for f in $$failed; do echo "== test: the end of $$f's output (build/test-logs/$$f.log)" >&2; \
		grep -E '^(FAILED|ERROR) |^E  |Error|error:|fatal:|failed=[1-9]' "build/test-logs/$$f.log" | tail -40 >&2; \
		tail -60 "build/test-logs/$$f.log" >&2; done; \
	if [ $$status -ne 0 ]; then echo "test: FAILED:$$failed" >&2; else echo "test: all stages passed"; fi; \
	exit $$status

# One molecule scenario per stage role (extensions/molecule/NAME), against the lab
# (make lab-up), one after the other: destroy, prepare, converge, idempotence,
# verify, destroy. Every scenario runs even when one fails; the exit status says if any did.
MOLECULE_SCENARIOS ?= bootstrap app_onboard canary promote abort rollback status

molecule: $(VENV_STAMP) $(COLLECTION_LINK)
	@failed=""; summary=""; total=$$(date +%s); \
	for s in $(MOLECULE_SCENARIOS); do \
		start=$$(date +%s); rc=0; \
		$(VENV_DIR)/bin/molecule test --scenario-name "$$s" || rc=$$?; \
		if [ $$rc -eq 0 ]; then result=passed; else result="FAILED (rc=$$rc)"; failed="$$failed $$s"; fi; \
		summary="$$summary$$(printf '  %-12s %-15s %4ss' "$$s" "$$result" "$$(( $$(date +%s) - start ))")"$$'\n'; \
	done; \
	printf 'molecule (%ss):\n%s' "$$(( $$(date +%s) - total ))" "$$summary"; \
	if [ -n "$$failed" ]; then echo "molecule: FAILED:$$failed" >&2; exit 1; fi

# --- the local federation (tools/lab) --------------------------------------

# LAB_ARGS: options of `python -m tools.lab` (`--members 16`); without --members, the size the lab last had.
# `make test` brings up the default lab, four members: its suites and inventories/lab are written for it.
LAB_ARGS ?=
lab-up: $(VENV_STAMP)
	$(PY) -m tools.lab $(LAB_ARGS) up

lab-down: $(VENV_STAMP)
	$(PY) -m tools.lab down

# The release flow as users run it: the playbooks against the lab (release, promote, repeats,
# rollback twice, waves, bad input, a member down).
playbook-test: $(VENV_STAMP) $(COLLECTION_LINK)
	$(PY) -m pytest tests/playbooks -q -p no:cacheprovider $(LAB_PYTEST_ARGS) $(PYTEST_ARGS)

# Every AWX job template run the way AWX runs it (ansible-runner, project sync, injected credential).
awx-test: $(VENV_STAMP) $(COLLECTION_LINK)
	$(PY) -m pytest tests/awx -q -p no:cacheprovider $(LAB_PYTEST_ARGS) $(PYTEST_ARGS)

# After lab-down: no process may still run a lab binary, and no PID file may be left.
lab-down-check: $(VENV_STAMP)
	$(PY) -m pytest tests/after_lab_down -q -p no:cacheprovider

lab-status: $(VENV_STAMP)
	$(PY) -m tools.lab status

# The demo starts from an empty namespace; the lab's admin deletes it (the automation identity
# the inventory connects as may not delete namespaces).
DEMO_NAMESPACE ?= ruoyi
demo: $(VENV_STAMP) $(COLLECTION_LINK)
	$(MAKE) --no-print-directory lab-up
	.lab/bin/kubectl --kubeconfig .lab/kubeconfig --context karmada-apiserver \
		delete namespace $(DEMO_NAMESPACE) --ignore-not-found --wait --timeout=180s
	$(VENV_DIR)/bin/ansible-playbook -i "$(if $(INVENTORY),$(INVENTORY),$$($(PY) -m tools.lab inventory))" playbooks/demo.yml

# --- benchmarks (never part of make test) ----------------------------------

# Ratios against baselines measured in the same run, with the lab up (bench/README.md), e.g.
# BENCH_ARGS='--members 8 --lab-up fresh --rounds 6'. Request counts and wait latency need the lab's
# API servers to keep an audit log: MCC_LAB_AUDIT_POLICY=$$PWD/bench/audit-policy.yaml make lab-up
# (--lab-up does it).
BENCH_ARGS ?=
bench: $(VENV_STAMP) $(COLLECTION_LINK)
	$(PY) bench/fleet_bench.py $(BENCH_ARGS)

# --- housekeeping ----------------------------------------------------------

changelog: $(VENV_STAMP)
	$(VENV_DIR)/bin/antsibull-changelog lint

clean:
	rm -rf build tests/output .pytest_cache .ansible
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV_DIR)

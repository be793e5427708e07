# The commands people type. Every target installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.installed
# HOMEWORK=folder: grade, build or test another homework (its homework.toml); default: the
# course's current one, autograder/tests
HW := $(if $(HOMEWORK),--homework $(HOMEWORK))

.PHONY: help venv student check test lint grade grade-all autograder gradescope-test
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

venv: $(READY) ## install the environment into .venv (done once; later runs install nothing)

$(READY): requirements.txt
	@echo "Installing the environment into $(VENV) (first time only: a few minutes, torch is large)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --progress-bar on -r requirements.txt
	touch $@

student: $(READY) ## regenerate assignment/ from solutions/
	$(PY) -m release.student

check: $(READY) ## what a student runs: the public tests against assignment/ (fail while stubbed)
	cd assignment && $(abspath $(PY)) -m pytest -q

grade: $(READY) ## grade SUBMISSION=path [RESULTS=path] [FORMAT=gradescope|prairielearn] [HOMEWORK=folder]; alone: the examples
	$(PY) -m autograder.grade $(SUBMISSION) $(if $(RESULTS),--results $(RESULTS)) $(if $(FORMAT),--format $(FORMAT)) $(HW)

grade-all: $(READY) ## grade SUBMISSIONS=dir-or-zip [ROSTER=csv] [ONLY=name] [ASSIGNMENT=name] [GRADEBOOK=csv] [JOBS=n] [OUT=dir] [REGRADE=1] [HOMEWORK=folder]
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade-all SUBMISSIONS=folder-or-export.zip"; exit 2; }
	$(PY) -m autograder.batch $(SUBMISSIONS) $(if $(GRADEBOOK),--gradebook $(GRADEBOOK)) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(OUT),--out $(OUT)) \
		$(if $(filter 1 yes true,$(REGRADE)),--regrade) $(if $(ROSTER),--roster "$(ROSTER)") \
		$(if $(ONLY),--only "$(ONLY)") $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") $(HW)

autograder: $(READY) ## build the Gradescope zip: build/autograder.zip [HOMEWORK=folder: build/autograder-FOLDER.zip]
	$(PY) -m release.gradescope $(HW)

gradescope-test: $(READY) ## run the zip's run_autograder in a Gradescope-like tree: SUBMISSION=path [RESULTS=path] [HOMEWORK=folder]
	$(PY) -m release.gradescope_test $(SUBMISSION) $(if $(RESULTS),--results $(RESULTS)) $(HW)

test: $(READY) ## the package's own test suite (CI runs this)
	$(PY) -m ruff check .
	$(PY) -m pytest -q tests

lint: $(READY) ## ruff
	$(PY) -m ruff check .

.PHONY: bench
bench: $(READY) ## the speed benchmark, side by side with otter run [N=200] [JOBS=n] [OTTER_SAMPLE=10]
	$(PY) bench/bench.py $(if $(N),--n $(N)) $(if $(JOBS),--jobs $(JOBS)) \
		$(if $(OTTER_SAMPLE),--otter-sample $(OTTER_SAMPLE))

.PHONY: bench-gradescope
bench-gradescope: $(READY) ## the zip in Gradescope's default container (768 MB, half a CPU; a cgroup), beside import torch [REPEAT=3]
	$(PY) bench/gradescope.py $(if $(REPEAT),--repeat $(REPEAT))

.PHONY: mutation
mutation: $(READY) ## the hidden tests' mutation score: every wrong mutant of the reference must lose a point
	$(PY) -m release.mutation

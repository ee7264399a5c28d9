# socialsight — two commands for a new machine:  make demo  and  make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LAKE   ?= demo-lake
SAMPLE := examples/sample-posts.jsonl.gz

.PHONY: demo test lint bench clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# Real test photos ship inside scikit-image's wheel; only its files are used.
	$(BIN)/python -m pip install --quiet --no-deps 'scikit-image>=0.22'
	touch $@

demo: $(VENV)/.base
	$(BIN)/socialsight import $(SAMPLE) --lake $(LAKE)
	$(BIN)/socialsight query --seed top_domains --lake $(LAKE)
	@echo ""
	@echo "The lake is in ./$(LAKE) (Parquet, one folder per table, dt=YYYY-MM-DD partitions)."
	@echo "Try:  $(BIN)/socialsight examples    then  $(BIN)/socialsight query --seed NAME --lake $(LAKE)"

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(VENV)/.test
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.vision

clean:
	rm -rf $(VENV) $(LAKE) .pytest_cache .mypy_cache .ruff_cache

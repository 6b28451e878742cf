# Entry points of the trading pipeline. `make help` lists them.
# Go's ./... does not span a workspace, so module-wide targets loop over MODULES.

GO        ?= go
# The modules are the ones go.work uses, so a new module is built and tested without edits here.
MODULES   := $(shell $(GO) list -m -f '{{.Dir}}' | sed "s|^$(CURDIR)/||")
# Modules that go.work leaves out on purpose are test-only and are vetted, built and tested on
# their own with GOWORK=off: sparkconnect/internal/compat links spark-connect-go, whose
# requirements would otherwise enter the workspace's build list and change other modules' versions.
OFFWORK   := $(filter-out $(MODULES),$(patsubst %/go.mod,%,$(shell git ls-files -- '*/go.mod')))
STACK     := bash stack/stack.sh
TOPIC     ?= trading_data

# Programs read .env themselves; exporting it here also hands it to tests and tools. In Docker
# mode, `make up` also writes the addresses Spark's containers use to $(STACK_HOME)/stack.env.
STACK_HOME ?= $(HOME)/.local/share/idxstream
# `make up TOPOLOGY=cluster`: 3 Kafka nodes, 3 Cassandra nodes, 2 Spark workers (stack/stack.sh);
# the other targets act on the topology that `up` recorded.
ifdef TOPOLOGY
STACK_TOPOLOGY := $(TOPOLOGY)
endif
-include .env
-include $(STACK_HOME)/stack.env
export

.DEFAULT_GOAL := help
.PHONY: help build unit test integration bench lint fmt gen gen-check up down status logs clean \
        submit demo stop producer dashboard

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## compile every module and put the binaries in bin/
	@mkdir -p bin
	@for m in $(MODULES); do (cd $$m && $(GO) build ./...) || exit 1; done
	@for m in $(OFFWORK); do (cd $$m && GOWORK=off $(GO) build -o /dev/null ./...) || exit 1; done
	$(GO) build -o bin/producer ./producer
	$(GO) build -o bin/dashboard ./dashboard
	@if [ -f spark_script/main.go ]; then $(GO) build -o bin/spark_script ./spark_script; fi

unit: ## unit tests only (no servers needed)
	@bash scripts/test.sh unit

test: ## everything: unit, integration and end-to-end tests against the real stack (starts and stops it)
	@bash scripts/test.sh all

integration: ## unit + integration tests against a stack that is already up (make up)
	@bash scripts/test.sh integration

bench: ## benchmarks of every part; prints one table and writes bench/results-*.md
	@bash scripts/bench.sh

lint: ## go vet on every module (and golangci-lint when installed)
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	@for m in $(OFFWORK); do (cd $$m && GOWORK=off $(GO) vet ./...) || exit 1; done
	@if command -v golangci-lint >/dev/null; then for m in $(MODULES); do (cd $$m && golangci-lint run ./...) || exit 1; done; \
	  for m in $(OFFWORK); do (cd $$m && GOWORK=off golangci-lint run ./...) || exit 1; done; fi

fmt: ## gofmt every module
	@gofmt -l -w $(MODULES)

gen: ## regenerate the Spark Connect protocol code
	cd sparkconnect && $(GO) generate ./...

# git status, not git diff: a generated file that is new or renamed is untracked, and counts too.
gen-check: gen ## fail if regenerating changes committed code
	@test -z "$$(git status --porcelain -- sparkconnect)" || { git status --short -- sparkconnect; git diff -- sparkconnect | head -40; echo "generated code is stale: run 'make gen' and commit"; exit 1; }

up: ## start Kafka, Spark (+ Connect), Cassandra and MySQL, apply the schema, wait until healthy (TOPOLOGY=cluster: 3+3+2 nodes)
	@$(STACK) up

down: ## stop the stack, keeping its data
	@$(STACK) down

status: ## show every service and its address
	@$(STACK) status

logs: ## tail the logs of the stack (SERVICE=kafka for one)
	@$(STACK) logs $(SERVICE)

clean: ## stop the stack and delete its data (downloads stay cached)
	@$(STACK) clean
	rm -rf bin

submit: ## start the streaming job on the Spark Connect server (runs until Ctrl-C)
	@$(STACK) status >/dev/null 2>&1 || { echo "the stack is not up: run 'make up' first"; exit 1; }
	$(GO) run ./spark_script

producer: ## run the producer against topic $(TOPIC)
	$(GO) run ./producer $(TOPIC)

dashboard: ## run the dashboard (http://127.0.0.1:8501)
	$(GO) run ./dashboard

demo: ## the whole product: stack up, job, producer and dashboard; Ctrl-C stops the programs
	@bash scripts/demo.sh

stop: ## stop the programs that `make demo` started (the stack keeps running)
	@bash scripts/demo.sh stop

# Switchyard: the front door for every task. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
export PATH := $(CURDIR)/.cache/bin:$(PATH)
export UV_LINK_MODE := copy
CONFIG ?= config/default.yaml
PYTEST_ARGS ?=

.PHONY: help install proto proto-check lint format typecheck test test-unit test-e2e up down status bench soak profile chart-check clean

help: ## Show the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

install: ## Install uv and the workspace (locked) into .venv
	@scripts/tools.sh uv
	@uv sync --frozen --quiet

proto: install ## Regenerate Python stubs from protos/
	@scripts/proto.sh

proto-check: install ## buf lint; buf breaking against main; fail when committed stubs differ from protos/
	@scripts/tools.sh buf
	@buf lint
	@scripts/proto-breaking.sh
	@scripts/proto.sh --check
	@uv run --frozen pytest tests/protos -q $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	@uv run --frozen ruff check .
	@uv run --frozen ruff format --check .

format: install ## Apply ruff formatting and fixes
	@uv run --frozen ruff format .
	@uv run --frozen ruff check --fix .

typecheck: install ## mypy (strict on libs/common, libs/llm and every domain/ package)
	@uv run --frozen mypy

test-unit: install ## Unit tests of every service and library
	@uv run --frozen pytest libs services $(PYTEST_ARGS)

test-e2e: install ## End-to-end tests: the whole stack on real PostgreSQL, Redis and Kafka
	@uv run --frozen pytest tests/e2e $(PYTEST_ARGS)

test: lint typecheck proto-check chart-check test-unit test-e2e ## Everything CI runs

chart-check: install ## Helm chart: lint, render, schema-validate (2 Kubernetes versions), policy, boot on its env
	@scripts/tools.sh helm
	@uv run --frozen pytest tests/chart $(PYTEST_ARGS)

up: install ## Start the local stack (CONFIG=path/to/config.yaml to use yours)
	@uv run --frozen python scripts/devstack/stack.py up --config $(CONFIG)

down: ## Stop everything `make up` started
	@if [ -x .venv/bin/python ]; then .venv/bin/python scripts/devstack/stack.py down; fi

status: ## Show what is running
	@.venv/bin/python scripts/devstack/stack.py status

bench: install ## Switchyard vs LiteLLM's proxy on a mock upstream (QUICK=1: under 3 minutes)
	@bench/setup.sh go wrk litellm litellm-db
	@uv run --frozen python bench/run.py $(if $(filter 1 yes true,$(QUICK)),--quick) $(BENCH_ARGS)

soak: install ## Memory soak at half the knee (SOAK_MINUTES=20); is RSS flat?
	@bench/setup.sh go wrk
	@uv run --frozen python bench/soak.py --minutes $(or $(SOAK_MINUTES),20) $(SOAK_ARGS)

profile: install ## py-spy profiles of the services under load (PROFILE_SECONDS=20)
	@bench/setup.sh go wrk pyspy
	@uv run --frozen python bench/profile.py --seconds $(or $(PROFILE_SECONDS),20) $(PROFILE_ARGS)

clean: down ## Stop the stack and delete its data (.stack)
	@rm -rf .stack

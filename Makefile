# Schakel — the front door. `make help` lists the targets.

SHELL := /bin/bash
export SCHAKEL_CONFIG ?= $(CURDIR)/infra/demo/region.toml
DIRECTORY ?= $(CURDIR)/infra/demo/directory.toml
BROKER_PORT ?= 9092
RUN := $(CURDIR)/.run
BIN := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/debug
SERVICES := schakel-ingest schakel-rules schakel-notify schakel-monitor
DEMO_PASSWORD := demo-wachtwoord
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PRIVACY_DIR := $(RUN)/privacy

.PHONY: help up down status demo test fuzz lint fmt build broker bench bench-rules bench-broker bench-codec bench-monitor bench-trace bench-whatif bench-ingest bench-notify bench-quick manifests

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build every binary
	cargo build --bins

broker: ## fetch Apache Kafka once per machine (Maven Central) and start a single KRaft node, data under .run/kafka
	@mkdir -p $(RUN)
	infra/kafka/start.sh $(BROKER_PORT) $(RUN)/kafka $(RUN)/kafka.pid $(RUN)/kafka.log

up: build broker ## start broker + all services on the config in SCHAKEL_CONFIG (default: demo region)
	@echo "fetching the NL Design System styles (once per machine)"; infra/monitor/assets.sh >/dev/null
	$(BIN)/schakel topics apply
	$(BIN)/schakel directory apply $(DIRECTORY)
	@if [ "$(SCHAKEL_CONFIG)" = "$(CURDIR)/infra/demo/region.toml" ]; then \
	  python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check aiosmtpd; \
	  if ! { [ -f $(RUN)/smtp.pid ] && kill -0 $$(cat $(RUN)/smtp.pid) 2>/dev/null; }; then \
	    mkdir -p $(RUN)/mail/new $(RUN)/mail/cur $(RUN)/mail/tmp; nohup python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Mailbox $(RUN)/mail >$(RUN)/smtp.log 2>&1 & echo $$! >$(RUN)/smtp.pid; \
	    echo "demo mail sink started on 127.0.0.1:2525 (mailbox: .run/mail)"; \
	  fi; \
	  [ -f $(RUN)/accounts.toml ] || for c in haarlem-jeugdteam haarlem-volwassenen haarlem-doorbraak haarlem-leerplicht haarlem-beleid; do \
	    echo $(DEMO_PASSWORD) | $(BIN)/schakel accounts add $$c >/dev/null 2>&1 && echo "demo account $$c (password $(DEMO_PASSWORD))"; \
	  done; \
	fi
	@for s in $(SERVICES); do \
	  if [ -f $(RUN)/$$s.pid ] && kill -0 $$(cat $(RUN)/$$s.pid) 2>/dev/null; then echo "$$s already running"; continue; fi; \
	  nohup $(BIN)/$$s >$(RUN)/$$s.log 2>&1 & echo $$! >$(RUN)/$$s.pid; echo "$$s started (log: .run/$$s.log)"; \
	done
	@infra/demo/await-up.sh $(RUN) schakel-ingest:8080 schakel-rules:8081 schakel-notify:8082 schakel-monitor:8083
	@if [ -f $(RUN)/clock.pid ] && kill -0 $$(cat $(RUN)/clock.pid) 2>/dev/null; then echo "clock already running"; else \
	  nohup $(BIN)/schakel clock run >$(RUN)/clock.log 2>&1 & echo $$! >$(RUN)/clock.pid; fi
	@echo "up: ingest http://127.0.0.1:8080/v1/events, monitor http://127.0.0.1:8083/  (health: /livez /readyz /metrics on 8080-8083)"

down: ## stop the services and the broker (the log under .run/kafka is kept)
	@# the services first, and wait for them: rules snapshots and notify commits on the way out,
	@# which needs the broker
	@for p in clock $(SERVICES) smtp kafka; do \
	  if [ -f $(RUN)/$$p.pid ]; then \
	    pid=$$(cat $(RUN)/$$p.pid); \
	    if kill $$pid 2>/dev/null; then \
	      for i in $$(seq 1 300); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
	      echo "stopped $$p"; \
	    fi; \
	    rm -f $(RUN)/$$p.pid; \
	  fi; \
	done

status: ## show which parts run
	@for p in kafka $(SERVICES) clock smtp; do \
	  if [ -f $(RUN)/$$p.pid ] && kill -0 $$(cat $(RUN)/$$p.pid) 2>/dev/null; then echo "$$p: running"; else echo "$$p: stopped"; fi; \
	done

demo: ## post a demo jeugdhulp assignment and tick through its 17y6m handoff (after `make up`)
	infra/demo/demo.sh $(BIN)

test: ## run every test (unit, property, golden, black-box and end-to-end on Apache Kafka), then the privacy scan of what they wrote
	infra/kafka/install.sh >/dev/null
	@# the SMTP server of the e-mail tests
	@python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
	@# the browser tests: Debian's Chromium and chromedriver, the fonts of the NL Design System theme
	@dpkg -s chromium chromium-driver fonts-noto-core >/dev/null 2>&1 || { \
	  echo "installing chromium, chromium-driver and fonts-noto-core (Debian)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver fonts-noto-core >/dev/null; }
	@# promtool (Debian's prometheus package): the alert rules, their unit tests, the dashboard's queries
	@dpkg -s prometheus >/dev/null 2>&1 || { \
	  echo "installing prometheus for promtool (Debian)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	infra/prometheus/check.sh
	@# the contracts: the AsyncAPI document of the topics current with topics.toml, the Avro
	@# schemas and the catalogue, and valid for the AsyncAPI parser (npm); the OpenAPI
	@# documents valid OpenAPI 3.1
	infra/contracts/check.sh
	@# the NL Design System styles and axe-core; the test OpenID provider (oidc-provider on Node.js)
	infra/monitor/assets.sh >/dev/null
	@[ -d tests/oidc/node_modules/oidc-provider ] || npm ci --prefix tests/oidc --no-audit --no-fund --ignore-scripts --loglevel=error
	@# the test Notificaties API (Python, openapi-core in a venv: Debian's python3-venv)
	@dpkg -s python3-venv >/dev/null 2>&1 || { \
	  echo "installing python3-venv (Debian)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
	tests/notificaties/install.sh >/dev/null
	cargo build --bins
	rm -rf $(PRIVACY_DIR) && mkdir -p $(PRIVACY_DIR)
	@# one broker for the run; tests that stop or cluster brokers start their own
	@if cargo nextest --version >/dev/null 2>&1; then \
	  PRIVACY_SCAN_DIR=$(PRIVACY_DIR) infra/kafka/with-broker.sh cargo nextest run --workspace --no-fail-fast; \
	else \
	  PRIVACY_SCAN_DIR=$(PRIVACY_DIR) infra/kafka/with-broker.sh cargo test --workspace --no-fail-fast; \
	fi
	$(BIN)/privacy-scan $(PRIVACY_DIR) tests/fixtures

FUZZ_SECONDS ?= 60
fuzz: ## run the iJw and CSV parser fuzz targets for FUZZ_SECONDS each (installs cargo-fuzz if missing)
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	@mkdir -p $(RUN)/fuzz/ijw $(RUN)/fuzz/csv
	@# the pinned stable toolchain; RUSTC_BOOTSTRAP lets it take cargo fuzz's flags, and safe
	@# Rust needs no sanitizer (-s none)
	cd services/ingest/fuzz && for t in ijw csv; do \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run -s none $$t $(RUN)/fuzz/$$t $(CURDIR)/tests/fixtures/$$t \
	    -- -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 || exit 1; \
	done

bench: bench-codec bench-broker bench-rules bench-monitor bench-trace bench-whatif bench-ingest bench-notify ## run every benchmark (figures in .run/bench/)

bench-quick: ## every benchmark at a small size on the debug build against one broker, checking no target, so none can rot (CI runs it; figures in .run/bench/quick/)
	infra/kafka/install.sh >/dev/null
	cargo build --bins
	infra/kafka/with-broker.sh infra/bench/quick.sh $(BIN)

bench-codec: ## the Avro codec alone: encode + decode of every topic's records, ns per record
	cargo build --release -p schakel-e2e --bin bench-codec
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-codec $(BENCH_CODEC_ARGS)

bench-monitor: ## the monitor in process: signal page and inbox p50/p99 at 1 000 000 children and 250 000 open signals, memory per open signal
	cargo build --release -p schakel-e2e --bin bench-monitor
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-monitor $(BENCH_MONITOR_ARGS)

bench-broker: ## Apache Kafka's floor: produce/consume with the project's settings vs librdkafka's defaults
	infra/kafka/install.sh >/dev/null
	cargo build --release --bins
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-broker $(BENCH_BROKER_ARGS)

bench-rules: ## rules: in-process fold, replay through the broker vs a bare consumer, restart from a snapshot (spawn → /readyz), memory per child
	infra/kafka/install.sh >/dev/null
	cargo build --release --bins
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-rules $(BENCH_ARGS)

bench-whatif: ## schakel whatif: a million children and a year of ticks under two policies in one pass, against one plain replay (in process)
	cargo build --release -p schakel-e2e --bin bench-rules
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-rules --whatif-only $(BENCH_WHATIF_ARGS)

bench-ingest: ## ingest against the broker's floor: facts over HTTP in batches of 1 000 (events/s, CPU per event) / a bare produce of the same records, and a CSV import of 100 000 enrolments
	infra/kafka/install.sh >/dev/null
	cargo build --release --bins
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-ingest $(BENCH_INGEST_ARGS)

bench-notify: ## one tick that makes 1 000 handoffs due → each signal's first webhook (p50, p99), and deliveries/s to one receiver
	infra/kafka/install.sh >/dev/null
	cargo build --release --bins
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-notify $(BENCH_NOTIFY_ARGS)

bench-trace: ## what tracing costs: ingest throughput and tick → webhook latency with traces off and on (ratios)
	infra/kafka/install.sh >/dev/null
	cargo build --release --bins
	$(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release/bench-trace $(BENCH_TRACE_ARGS)

manifests: ## validate infra/k8s (kubeconform against Kubernetes and Strimzi schemas) and infra/compose, offline after the first run
	infra/k8s/validate.sh

lint: ## formatting and clippy, warnings are errors
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt: ## format the code
	cargo fmt --all

# Ticketero: `make demo` runs the system, `make test` passes the tests.
SHELL := /bin/bash
MODULES := shared migrations agent cloud
# Modules that hold Go packages (go test ./x/... fails on an empty module).
PKGS := $(foreach m,$(MODULES),$(if $(shell find $(m) -name '*.go' -print -quit 2>/dev/null),./$(m)/...))
export TICKETERO_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ticketero_test?sslmode=disable
GOTEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: release-agent all build test vet lint audit bench bench-fleet demo demo-clean dev-services fuzz clean

all: build

build:
	@mkdir -p bin
	@for c in agent/cmd/ticketero-agent cloud/cmd/ticketero-cloud agent/cmd/ticketero-sim; do \
		if [ -d $$c ]; then echo "go build $$c"; go build -o bin/ ./$$c || exit 1; fi; done

dev-services:
	bash scripts/dev-services.sh

# The agent for HQ's releases, linux/amd64 and linux/arm64 (cgo: arm64 with
# aarch64-linux-gnu-gcc), version stamped: make release-agent VERSION=2.4.0
# (into dist/agent-2.4.0/). Then sign and publish each (docs/operations.md §6).
release-agent:
	@test -n "$(VERSION)" || { echo "usage: make release-agent VERSION=2.4.0"; exit 2; }
	bash scripts/release-agent.sh $(VERSION)

vet:
	go vet $(PKGS)

lint: vet
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$(grep -rlE --include='*.go' --exclude='*_test.go' 'http\.(NewServeMux|DefaultServeMux|HandleFunc\(|Handle\()' $(MODULES)); if [ -n "$$out" ]; then echo "chi is the one router; net/http's mux in:"; echo "$$out"; exit 1; fi
	@out=$$(grep -rln --include='*.go' --exclude='*_test.go' '^func init()' $(MODULES) | grep -v '^shared/i18n/messages_'); if [ -n "$$out" ]; then echo "no init(): register subcommands, steps and handlers explicitly (only shared/i18n's message files add to the catalogue in init); func init() in:"; echo "$$out"; exit 1; fi
	@out=$$(git ls-files -z | xargs -0 grep -nIE '\.\./shared' | grep -vE '^[^:]*go\.mod:[0-9]+:.*=>'); if [ -n "$$out" ]; then echo "the repository is self-contained: nothing may point at the parent directory's shared folder (only go.mod replace lines):"; echo "$$out"; exit 1; fi

test: dev-services lint
	go test $(GOTEST_FLAGS) $(PKGS)

# Supply-chain and static security checks (govulncheck against a local copy of
# the vulnerability database, gosec); not part of test. See scripts/audit.sh.
audit:
	bash scripts/audit.sh

fuzz:
	cd shared/event && go test -run='^$$' -fuzz=FuzzDecode -fuzztime=30s .

bench: dev-services build
	bash scripts/bench.sh

# The fleet simulator at 1,000 and 5,000 branches (FLEET_SIZES, FLEET_DURATION);
# not part of test or bench: about 6 minutes per size. See docs/performance.md, "Fleet".
bench-fleet: dev-services
	bash scripts/bench-fleet.sh

demo: dev-services build
	bash scripts/demo.sh

demo-clean:
	-pkill -f 'bin/ticketero-(agent|cloud|sim)' || true
	-pkill -f 'mosquitto -c .*/.dev/demo/' || true
	rm -rf .dev/demo

clean:
	rm -rf bin

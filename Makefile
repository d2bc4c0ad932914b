# classmesh — see README.md.
#   make demo    build everything and run one node with the demo course
#   make test    install missing test tools, then run every test
#   make systest only the system tests: processes, browsers, herd (ARCHITECTURE.md)
#   make bench   benchmarks against nginx (B1), ffmpeg (B2) and cold fills (B3)
#   make fuzz    run every fuzzer for FUZZTIME each
#   make cluster three nodes on loopback (one with the demo course)

GO        ?= go
BIN       := bin/classmesh
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
HTTP      ?= 127.0.0.1:8080
DEMO_DATA ?= .cache/demo-data
FUZZTIME  ?= 20s
GOTESTFLAGS ?= -count=1 -timeout 25m

# System tests (ARCHITECTURE.md, "System tests"): cmd/classmesh/systest runs
# classmesh processes; the in-process ones stay next to their code and are
# picked by name: every TestBrowser*, the herd, and the live and access
# tests that also play in Chromium.
SYSTEST_NODE   := ^(TestBrowser.*|TestHerd.*|TestLiveClassThroughTheRelay|TestPrivateLiveClassNeedsToken)$$
SYSTEST_PLAYER := ^TestBrowser.*$$

.PHONY: all build player demo cluster test systest test-deps bench fuzz vet clean

all: build

player/node_modules/.package-lock.json: player/package.json player/package-lock.json
	cd player && npm ci --no-audit --no-fund
	@touch $@

player: player/node_modules/.package-lock.json
	cd player && npm run --silent build

build: player
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/classmesh

demo: build
	@test -f testdata/media/demo/asset.json || bash scripts/make-demo-media.sh
	@echo "Starting classmesh with the demo course; open the URL below (Ctrl-C to stop)."
	./$(BIN) serve --demo --http $(HTTP) --data $(DEMO_DATA)

cluster: build
	bash scripts/cluster.sh

test-deps:
	bash scripts/install-test-deps.sh

test: test-deps player
	$(GO) vet ./...
	cd player && npm run --silent test:unit
	$(GO) test $(GOTESTFLAGS) ./...

systest: test-deps player
	$(GO) test $(GOTESTFLAGS) ./cmd/classmesh/systest
	$(GO) test $(GOTESTFLAGS) -run '$(SYSTEST_NODE)' ./node
	$(GO) test $(GOTESTFLAGS) -run '$(SYSTEST_PLAYER)' ./player

bench: build
	bash scripts/bench.sh

fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

vet:
	$(GO) vet ./...

clean:
	rm -rf bin .cache player/dist/assets test-artifacts

# Entry points; the scripts hold the logic so CI and people run the same thing.
.PHONY: build test bench fuzz man

# How long each fuzz target runs in `make fuzz`.
FUZZTIME ?= 30s

build:
	go build -o bin/intunecap ./cmd/intunecap

# The manual page, made from the same text as every command's -h (intunecap man); read it with man -l.
man:
	mkdir -p bin
	go run ./cmd/intunecap man > bin/intunecap.1.tmp && mv bin/intunecap.1.tmp bin/intunecap.1

test:
	bash scripts/test.sh

# Generates the benchmark captures once (bench/out/, gitignored), then measures intunecap against the
# yardstick and tshark and checks the targets of issue 6. See docs/performance.md.
bench:
	bash scripts/bench.sh

fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

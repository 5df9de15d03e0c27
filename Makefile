GO ?= go

.PHONY: help build test check bench load generate

help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/openlift
	$(GO) build -o bin/openlift ./cmd/openlift

test: ## run every test with the race detector (what CI runs)
	$(GO) test -race -count=1 -timeout 12m ./...

check: ## gofmt, vet, tidy
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) mod tidy -diff

bench: ## run the benchmarks (transport, store, CreatePlayerSession end to end)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/api ./internal/store/sqlite ./internal/server

LOAD_FLAGS ?= -duration 10s -concurrency 32

load: build ## CreatePlayerSession from a separate process vs the HTTP floor (LOAD_FLAGS="-duration 10s -concurrency 128 -json")
	bin/openlift load $(LOAD_FLAGS)

generate: ## regenerate internal/shapes from the aws-sdk-go-v2 gamelift model
	$(GO) generate ./internal/shapes

GO ?= go

.PHONY: help build test check bench generate

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

generate: ## regenerate internal/shapes from the aws-sdk-go-v2 gamelift model
	$(GO) generate ./internal/shapes

package main

import (
	"bytes"
	"os"
	"testing"
)

// The committed shapes must be exactly what the pinned aws-sdk-go-v2 gamelift
// client yields: a renamed, missing or extra wire member fails here.
func TestCommittedShapesAreCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../internal/shapes/shapes_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/shapes/shapes_gen.go is stale: run `make generate`")
	}
	if !bytes.Contains(want, []byte("type CreatePlayerSessionInput struct")) || !bytes.Contains(want, []byte(`PlayerSessionCreationPolicy string `)) {
		t.Fatal("generated shapes lack the members this test expects; the generator is broken")
	}
}

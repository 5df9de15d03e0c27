// Package server is openlift's composition root: it opens the store, builds the
// core service, and serves the GameLift API and the Server SDK WebSocket
// endpoint on one listener until its context ends.
package server

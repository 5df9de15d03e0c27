// Package load drives CreatePlayerSession against an openlift server from
// outside its process and compares the result with this machine's HTTP floor
// measured in the same run.
//
// The in-process benchmarks in internal/server share one process and its
// CPUs between client and server, so a cheap server looks expensive when the
// client is not. Here the server is a child process (`openlift serve`, or an
// existing endpoint) and the client is kept cheap: request bodies are encoded
// once, and each request costs a SigV4 signature and an HTTP round trip.
// The baseline is the same client, the same bodies and the same concurrency
// against a second child of the same binary whose handler only answers with a
// canned CreatePlayerSession reply, so the ratio between the two runs is the
// cost openlift adds over net/http itself.
//
// Game sessions are recycled by removing their player sessions, not by
// creating new game sessions: each simulated process hosts one game session
// for its life, so a new game session would need a new process, and the
// sim's RemovePlayerSession is what a real game server does when a player
// leaves. Once a game session's 200 reservations have all been answered, a
// drainer removes them over the Server SDK WebSocket and returns the game
// session to the pool. Removals are server work as costly as reservations,
// so draining waits until fewer than a quarter of the game sessions have
// free slots: with a pool large enough for the run (the default 256 game
// sessions hold 51,200 reservations) the measurement is CreatePlayerSession
// alone, and a longer run degrades to the mixed load, which the report's
// removal count and worker wait time show.
//
// Correctness is checked at the end: reservations minus removals must equal
// the sum of CurrentPlayerSessionCount over the game sessions, and none may
// exceed its maximum.
package load

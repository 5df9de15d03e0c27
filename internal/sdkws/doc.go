// Package sdkws serves the WebSocket endpoint that game server processes built
// on the GameLift Server SDK 5 connect to (spec/server-sdk-protocol.md).
//
// The handler admits a connection only after the Backend has accepted its
// compute auth token, then runs one reader (which handles the process's
// requests in order and answers each one) and one writer (which owns the socket
// for replies, pushes and pings); that machinery is package wsconn's, shared
// with the agent endpoint. Everything about process state lives behind the
// Backend; this package only speaks the wire protocol.
package sdkws

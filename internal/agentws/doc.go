// Package agentws is the service side of the control channel between
// `openlift agent` and openlift (the frames are in package agentmsg): it admits
// an agent's WebSocket with its compute auth token, answers its requests
// (heartbeat, process exits, drain) through a Backend, and carries the
// Backend's pushes (force exit, runtime configuration changes, fresh tokens).
// The connection machinery is package wsconn's, shared with the Server SDK
// endpoint.
package agentws

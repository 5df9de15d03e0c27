// Package wsconn is the connection machinery shared by openlift's WebSocket
// endpoints: the Server SDK endpoint (package sdkws) and the host agent
// control channel (package agentws). Both speak JSON text frames with the same
// envelope: a request carries Action and RequestId and gets exactly one reply
// echoing both, with a StatusCode and, on failure, an ErrorMessage; a push
// from the service carries an Action only.
//
// An Endpoint upgrades admitted requests, keeps the set of live connections
// so that Close can end them all and wait for their detach, and runs each one
// as a Conn: one reader, which hands the requests in order to the endpoint's
// Session and answers each one, and one writer, which owns the socket for
// replies, pushes and pings. Push never blocks; a connection whose bounded
// send queue overflows is closed, and its client reconnects.
//
// What differs between endpoints stays with them: their admission rules (the
// query, the auth token), their dispatch tables and their Backend interfaces.
// StatusFor maps apierr codes onto the reply status codes for both.
package wsconn

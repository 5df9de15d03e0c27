// Package agentmsg defines the control channel between `openlift agent` (the
// host agent that launches and supervises game server processes on a compute)
// and the openlift service.
//
// The agent dials GET /agent?FleetId=<id>&ComputeName=<name>&Authorization=<compute auth token>
// on the service's listener (the same host:port as the API; the compute auth
// token is the one GetComputeAuthToken returns). Frames are JSON text frames
// with the same envelope as the Server SDK protocol: requests carry Action and
// a RequestId and get exactly one reply echoing both with StatusCode 200 (or an
// error StatusCode and ErrorMessage); pushes from the service carry Action only.
package agentmsg

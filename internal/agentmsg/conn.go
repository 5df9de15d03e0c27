package agentmsg

// Identity names the compute behind an agent connection, as given in the
// upgrade request's query (FleetId, ComputeName) and checked by the service.
// FleetID is passed on as the agent sent it (an id or an ARN).
type Identity struct {
	FleetID     string
	ComputeName string
}

// Conn is what the service may do with an attached agent connection: push
// frames (ForceExit, RuntimeConfigurationChanged, RefreshConnection). Push
// never blocks; a connection whose queue is full is closed, and the agent
// reconnects.
type Conn interface {
	Push(frame any) error
}

package sdkmsg

// Identity names the game server process behind a connection, as given in the
// upgrade request's query (pID, FleetId, ComputeId, sdkVersion, sdkLanguage)
// and checked by the service.
type Identity struct {
	ProcessID   string
	FleetID     string
	ComputeName string
	SdkVersion  string
	SdkLanguage string
}

// Conn is what the service may do with an attached connection: push frames
// (CreateGameSession, UpdateGameSession, TerminateProcess, RefreshConnection).
// Push must not block for long; a connection whose queue is full is closed (the
// SDK reconnects with the same pID).
type Conn interface {
	Push(frame any) error
}

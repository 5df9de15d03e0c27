// Package core implements GameLift's operations over the store: validation,
// invariants, lifecycles and timers. It speaks neither HTTP nor WebSocket: the
// api package calls its methods named after GameLift operations, and the sdkws
// endpoint calls the methods of sdkws.Backend.
package core

// Package sim simulates game server processes that speak the GameLift Server
// SDK 5 WebSocket protocol the way the official Go server SDK 5.6.0 does
// (spec/server-sdk-protocol.md): same upgrade query, same frames, heartbeats,
// push handling, reconnects and RefreshConnection. One OS process can run many
// simulated server processes, which the real SDK cannot (its state is
// process-wide), so the simulator serves tests, demos and load generation.
//
// A real game can run on it too, one process per OS process like the SDK:
// Config.ServePlayers puts the game's own protocol on the player port and
// Config.OnStartGameSession is its OnStartGameSession (examples/tcpgame).
//
// Otherwise each simulated process listens on a player TCP port with a small
// line protocol, so that a "player" (a test, or nc) can make the game server
// call AcceptPlayerSession and friends:
//
//	on connect          HELLO openlift-sim 1 <pID>
//	<psess-id>          AcceptPlayerSession      -> OK accept <id>
//	accept <psess-id>   the same, for ids without the psess- prefix
//	bye <psess-id>      RemovePlayerSession      -> OK remove <id>
//	describe <psess-id> DescribePlayerSessions   -> OK describe <json>
//	policy ACCEPT_ALL|DENY_ALL                   -> OK policy <policy>
//	session             the current game session -> OK session <json>
//	activate            ActivateGameSession      -> OK activate <game session id>
//	                    (only needed with Config.WithholdActivation)
//	end                 ProcessEnding, then exit -> OK end
//
// Failures answer "ERR <status> <message>": the service's StatusCode and
// ErrorMessage, 400 for checks the SDK makes locally (no game session yet, bad
// id), 504 when the reply did not arrive in time and 503 for other transport
// failures. Anything else answers "ERR 400 unknown command".
package sim

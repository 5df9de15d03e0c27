// Package sdkmsg defines the JSON frames of the GameLift Server SDK 5 WebSocket
// protocol (spec/server-sdk-protocol.md): the requests a game server process
// sends, the replies it expects, and the pushes the service sends.
package sdkmsg

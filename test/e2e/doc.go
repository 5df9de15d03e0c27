// Package e2e holds openlift's black-box acceptance tests: they build the
// openlift binary and the example game (examples/tcpgame), start real
// `openlift serve`, `openlift sim` and `openlift agent` processes, and drive
// them with unmodified clients (aws-sdk-go-v2's gamelift client over
// Smithy RPC v2 CBOR, AWS JSON 1.1 requests signed as botocore signs them, and
// Debian's AWS CLI when it is installed) and with players on the TCP ports of
// the simulated game servers and of the example game.
package e2e

// Package e2e holds openlift's black-box acceptance tests: they build the
// openlift binary, start real `openlift serve` and `openlift sim` processes,
// and drive them with unmodified clients (aws-sdk-go-v2's gamelift client over
// Smithy RPC v2 CBOR, AWS JSON 1.1 requests signed as botocore signs them, and
// Debian's AWS CLI when it is installed) and with players on the simulated game
// servers' TCP ports.
package e2e

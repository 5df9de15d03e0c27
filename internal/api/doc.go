// Package api is the HTTP transport of the GameLift control plane: it verifies
// SigV4, speaks both awsJson1_1 (POST /, X-Amz-Target) and Smithy RPC v2 CBOR
// (POST /service/GameLift/operation/<Op>), and dispatches to a service value
// whose methods are named after GameLift operations.
package api

// Command genshapes writes internal/shapes/shapes_gen.go: openlift's wire shapes for
// every GameLift operation, derived by reflection from the aws-sdk-go-v2 gamelift
// client, so that member names and nesting cannot drift from what clients send.
package main

// Command openlift is a self-hosted game session service that speaks Amazon
// GameLift's protocols. Run `openlift help` for its subcommands.
package main

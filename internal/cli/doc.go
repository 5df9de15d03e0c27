// Package cli implements openlift's subcommands.
package cli

// Package proc starts and stops the OS processes the host agent runs: each in
// its own process group (so that a kill reaches whatever the game server
// spawned), with stdout and stderr going to a log file of its own, and with a
// launch path checked before anything is created so that a bad runtime
// configuration is told apart from a game server that crashes.
package proc

// Package clock abstracts time so that timeouts, heartbeats and token expiry can be
// driven by tests.
package clock

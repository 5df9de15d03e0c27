// Package sdkwstest provides a recording sdkws.Backend for tests of the SDK
// endpoint and of clients that speak its protocol (such as internal/sim).
package sdkwstest

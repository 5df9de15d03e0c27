// Package apierr defines the one typed error that crosses from the domain to the wire.
package apierr

package wsconn

import (
	"io"
	"log/slog"
	"time"
)

// Options tunes an endpoint. Each endpoint has its own defaults for the
// fields left at zero (see NewEndpoint).
type Options struct {
	Logger *slog.Logger

	// PingInterval is how often the server pings each connection. The read
	// deadline is two intervals, so a peer that vanished without closing its
	// socket (or stopped answering pings) is dropped within that time.
	PingInterval time.Duration

	// WriteTimeout bounds each frame write, so a peer that stops reading
	// cannot pin the writer forever. It also bounds the upgrade handshake.
	WriteTimeout time.Duration

	// SendQueue is the number of outbound frames buffered per connection.
	// An overflow closes the connection: the client reconnects, which is
	// better than stalling the service behind it or silently losing frames.
	SendQueue int

	// MaxMessageBytes limits inbound frames; a larger one ends the
	// connection (close code 1009).
	MaxMessageBytes int64

	// CallTimeout bounds each Backend call (the endpoint's admission check
	// and every request).
	CallTimeout time.Duration
}

// withDefaults fills the zero fields of o from d; a nil Logger discards.
func (o Options) withDefaults(d Options) Options {
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.PingInterval <= 0 {
		o.PingInterval = d.PingInterval
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = d.WriteTimeout
	}
	if o.SendQueue <= 0 {
		o.SendQueue = d.SendQueue
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = d.MaxMessageBytes
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = d.CallTimeout
	}
	return o
}

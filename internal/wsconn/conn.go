package wsconn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Errors returned by Conn.Push.
var (
	// ErrConnClosed means the connection is gone; the client may reconnect.
	ErrConnClosed = errors.New("wsconn: connection closed")
	// ErrQueueFull means the frame did not fit in the send queue and the
	// connection was closed because of it.
	ErrQueueFull = errors.New("wsconn: send queue full, connection closed")
)

// closeGrace is how long a shut-down connection may take to send its close frame.
const closeGrace = time.Second

// Conn is one admitted socket. The reader runs in Endpoint.Serve's goroutine
// and handles requests one at a time, in order; the writer runs in its own
// goroutine and is the only one writing frames. done is closed once, by
// whichever side gives up first.
type Conn struct {
	ep  *Endpoint
	ws  *websocket.Conn
	log *slog.Logger

	send       chan []byte
	done       chan struct{}
	writerDone chan struct{}

	closeOnce sync.Once
	// closeCode/closeText are written once before done is closed and only
	// read after it, so they need no lock. Zero means "drop without a close
	// frame" (the peer is already gone).
	closeCode int
	closeText string
}

func newConn(ep *Endpoint, ws *websocket.Conn, log *slog.Logger) *Conn {
	return &Conn{
		ep:         ep,
		ws:         ws,
		log:        log,
		send:       make(chan []byte, ep.opts.SendQueue),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// Push marshals frame and queues it as one text frame. It never blocks: a
// full queue closes the connection, because a client that cannot keep up is
// better served by its reconnect than by a backend stalled behind it.
func (c *Conn) Push(frame any) error {
	b, err := json.Marshal(frame)
	if err != nil {
		return fmt.Errorf("wsconn: marshal push: %w", err)
	}
	if !isJSONObject(b) {
		return fmt.Errorf("wsconn: push must be a JSON object, got %.20q", b)
	}
	return c.enqueue(b)
}

func (c *Conn) enqueue(b []byte) error {
	select {
	case <-c.done:
		return ErrConnClosed
	default:
	}
	select {
	case c.send <- b:
		return nil
	default:
		c.log.Warn(c.ep.proto.Name+" send queue full, closing connection so that the "+c.ep.proto.Peer+" reconnects", "queue", cap(c.send))
		c.Close(websocket.CloseTryAgainLater, "send queue full")
		return ErrQueueFull
	}
}

// Close ends the connection. A non-zero code is sent in a close frame; zero
// drops the socket without one. Only the first call counts. Any close makes
// the clients reconnect, so codes are informational.
func (c *Conn) Close(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
	})
}

func (c *Conn) serve(ctx context.Context, s Session) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.writeLoop()
	// Server shutdown arrives through the request context; 1012 (service
	// restart) tells a human reading the client's log why, and the client
	// will reconnect to whatever comes back.
	stop := context.AfterFunc(ctx, func() { c.Close(websocket.CloseServiceRestart, "server shutting down") })
	defer stop()
	go c.forceCloseIfStuck()

	s.Attach(c)
	err := c.readLoop(ctx, s)
	c.Close(0, "")
	<-c.writerDone
	s.Detach(c)
	c.logDisconnect(err)
}

// forceCloseIfStuck cuts the socket when the writer has not exited shortly
// after shutdown. That happens when it is blocked writing to a peer that
// stopped reading (the usual reason the queue overflowed); waiting out the
// write deadline would keep a dead connection attached for no benefit.
func (c *Conn) forceCloseIfStuck() {
	<-c.done
	t := time.NewTimer(min(c.ep.opts.WriteTimeout, closeGrace))
	defer t.Stop()
	select {
	case <-c.writerDone:
	case <-t.C:
		_ = c.ws.NetConn().Close()
	}
}

func (c *Conn) logDisconnect(err error) {
	peer := c.ep.proto.Peer
	var ne net.Error
	switch {
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
		c.log.Info(peer + " disconnected")
	case errors.Is(err, websocket.ErrReadLimit):
		c.log.Warn(peer+" disconnected: inbound frame exceeds the size limit", "limit", c.ep.opts.MaxMessageBytes)
	case errors.As(err, &ne) && ne.Timeout():
		c.log.Info(peer+" disconnected: no frame or pong within the idle timeout", "idle", 2*c.ep.opts.PingInterval)
	default:
		// EOF, 1006 or a closed socket. The Server SDK never sends a close
		// frame (exit, Destroy and reconnect all look like this), so this is
		// the ordinary way a process leaves.
		c.log.Info(peer+" disconnected", "error", err)
	}
}

func (c *Conn) writeLoop() {
	defer close(c.writerDone)
	// Closing the socket is what unblocks the reader when the writer gives up.
	defer c.ws.Close()
	ping := time.NewTicker(c.ep.opts.PingInterval)
	defer ping.Stop()
	deadline := func() time.Time { return time.Now().Add(c.ep.opts.WriteTimeout) }
	for {
		select {
		case <-c.done:
			if c.closeCode != 0 {
				_ = c.ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(c.closeCode, c.closeText), deadline())
			}
			return
		default:
		}
		select {
		case <-c.done:
			// Handled at the top of the loop.
		case b := <-c.send:
			_ = c.ws.SetWriteDeadline(deadline())
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.log.Debug(c.ep.proto.Name+" write failed", "error", err)
				c.Close(0, "")
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline()); err != nil {
				c.log.Debug(c.ep.proto.Name+" ping failed", "error", err)
				c.Close(0, "")
			}
		}
	}
}

func (c *Conn) readLoop(ctx context.Context, s Session) error {
	idle := 2 * c.ep.opts.PingInterval
	extend := func() { _ = c.ws.SetReadDeadline(time.Now().Add(idle)) }
	c.ws.SetReadLimit(c.ep.opts.MaxMessageBytes)
	extend()
	c.ws.SetPongHandler(func(string) error { extend(); return nil })
	c.ws.SetPingHandler(func(data string) error {
		// Neither the SDK nor the agent pings today; answer anyway so that a
		// client that does is treated as alive.
		extend()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.ep.opts.WriteTimeout))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		extend()
		if mt != websocket.TextMessage {
			c.log.Warn("ignoring non-text "+c.ep.proto.Name+" frame", "type", mt, "bytes", len(data))
			continue
		}
		c.handleFrame(ctx, s, data)
	}
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

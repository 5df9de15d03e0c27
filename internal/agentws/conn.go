package agentws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Errors returned by Conn.Push.
var (
	// ErrConnClosed means the connection is gone; the agent will reconnect.
	ErrConnClosed = errors.New("agentws: connection closed")
	// ErrQueueFull means the frame did not fit in the send queue and the
	// connection was closed because of it.
	ErrQueueFull = errors.New("agentws: send queue full, connection closed")
)

// closeGrace is how long a shut-down connection may take to send its close frame.
const closeGrace = time.Second

// conn is one agent socket. The reader runs in the handler's goroutine and
// handles requests one at a time, in order (an agent's requests are few, and
// ordering keeps a ProcessExited from overtaking the heartbeat before it);
// the writer runs in its own goroutine and is the only one writing frames.
// done is closed once, by whichever side gives up first.
type conn struct {
	h   *Handler
	ws  *websocket.Conn
	id  Identity
	log *slog.Logger

	send       chan []byte
	done       chan struct{}
	writerDone chan struct{}

	closeOnce sync.Once
	// closeCode/closeText are written once before done is closed and only
	// read after it. Zero means "drop without a close frame".
	closeCode int
	closeText string
}

var _ Conn = (*conn)(nil)

func newConn(h *Handler, ws *websocket.Conn, id Identity, log *slog.Logger) *conn {
	return &conn{
		h:          h,
		ws:         ws,
		id:         id,
		log:        log,
		send:       make(chan []byte, h.opts.SendQueue),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// Push marshals frame and queues it as one text frame. It never blocks: a
// full queue closes the connection.
func (c *conn) Push(frame any) error {
	b, err := json.Marshal(frame)
	if err != nil {
		return fmt.Errorf("agentws: marshal push: %w", err)
	}
	if !isJSONObject(b) {
		return fmt.Errorf("agentws: push must be a JSON object, got %.20q", b)
	}
	return c.enqueue(b)
}

func (c *conn) enqueue(b []byte) error {
	select {
	case <-c.done:
		return ErrConnClosed
	default:
	}
	select {
	case c.send <- b:
		return nil
	default:
		c.log.Warn("agent send queue full, closing connection so the agent reconnects", "queue", cap(c.send))
		c.shutdown(websocket.CloseTryAgainLater, "send queue full")
		return ErrQueueFull
	}
}

// shutdown ends the connection; a non-zero code is sent as a close frame.
func (c *conn) shutdown(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
	})
}

func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.writeLoop()
	stop := context.AfterFunc(ctx, func() { c.shutdown(websocket.CloseServiceRestart, "server shutting down") })
	defer stop()
	go c.forceCloseIfStuck()

	c.h.b.AttachAgent(c.id, c)
	err := c.readLoop(ctx)
	c.shutdown(0, "")
	<-c.writerDone
	c.h.b.DetachAgent(c.id, c)
	c.logDisconnect(err)
}

// forceCloseIfStuck cuts the socket when the writer has not exited shortly
// after shutdown, which happens when it is blocked writing to an agent that
// stopped reading.
func (c *conn) forceCloseIfStuck() {
	<-c.done
	t := time.NewTimer(min(c.h.opts.WriteTimeout, closeGrace))
	defer t.Stop()
	select {
	case <-c.writerDone:
	case <-t.C:
		_ = c.ws.NetConn().Close()
	}
}

func (c *conn) logDisconnect(err error) {
	var ne net.Error
	switch {
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
		c.log.Info("host agent disconnected")
	case errors.Is(err, websocket.ErrReadLimit):
		c.log.Warn("host agent disconnected: inbound frame exceeds the size limit", "limit", c.h.opts.MaxMessageBytes)
	case errors.As(err, &ne) && ne.Timeout():
		c.log.Info("host agent disconnected: no frame or pong within the idle timeout", "idle", 2*c.h.opts.PingInterval)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		c.log.Info("host agent disconnected", "error", err)
	default:
		c.log.Info("host agent disconnected", "error", err)
	}
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	// Closing the socket is what unblocks the reader when the writer gives up.
	defer c.ws.Close()
	ping := time.NewTicker(c.h.opts.PingInterval)
	defer ping.Stop()
	deadline := func() time.Time { return time.Now().Add(c.h.opts.WriteTimeout) }
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
				c.log.Debug("agent write failed", "error", err)
				c.shutdown(0, "")
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline()); err != nil {
				c.log.Debug("agent ping failed", "error", err)
				c.shutdown(0, "")
			}
		}
	}
}

func (c *conn) readLoop(ctx context.Context) error {
	idle := 2 * c.h.opts.PingInterval
	extend := func() { _ = c.ws.SetReadDeadline(time.Now().Add(idle)) }
	c.ws.SetReadLimit(c.h.opts.MaxMessageBytes)
	extend()
	c.ws.SetPongHandler(func(string) error { extend(); return nil })
	c.ws.SetPingHandler(func(data string) error {
		extend()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.h.opts.WriteTimeout))
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
			c.log.Warn("ignoring non-text agent frame", "type", mt, "bytes", len(data))
			continue
		}
		c.handleFrame(ctx, data)
	}
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

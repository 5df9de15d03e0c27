package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/openlift/openlift/internal/sdkmsg"
)

// greeting is the first line on every player connection; version 1 of the
// line protocol.
const greeting = "HELLO openlift-sim 1 "

// maxLine bounds one command line.
const maxLine = 64 << 10

// listen opens the player port. A picked port above 60000 is refused by the
// SDK's ProcessReady validation, so such a port is given back and another
// one picked.
func listen(host string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	for range 50 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		if port != 0 || ln.Addr().(*net.TCPAddr).Port <= maxPort {
			return ln, nil
		}
		ln.Close()
	}
	return nil, fmt.Errorf("no free port at or below %d on %s", maxPort, host)
}

func (p *Process) servePlayers(ctx context.Context) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // the listener is closed when the process ends
		}
		p.mu.Lock()
		if p.exiting {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.players[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.servePlayer(ctx, c)
		}()
	}
}

func (p *Process) servePlayer(ctx context.Context, c net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.players, c)
		p.mu.Unlock()
		c.Close()
	}()
	w := bufio.NewWriter(c)
	writeLine := func(s string) bool {
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.WriteString(s + "\n"); err != nil {
			return false
		}
		return w.Flush() == nil
	}
	if !writeLine(greeting + p.id) {
		return
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		out, end := p.command(ctx, line)
		if !writeLine(out) {
			return
		}
		if end {
			p.exit(nil)
			return
		}
	}
}

// command runs one line and returns the reply line, and whether the process
// should now end.
func (p *Process) command(ctx context.Context, line string) (string, bool) {
	f := strings.Fields(line)
	switch {
	case len(f) == 1 && strings.HasPrefix(f[0], "psess-"):
		return p.acceptLine(ctx, f[0]), false
	case len(f) == 2 && f[0] == "accept":
		return p.acceptLine(ctx, f[1]), false
	case len(f) == 2 && f[0] == "bye":
		if err := p.RemovePlayerSession(ctx, f[1]); err != nil {
			return errLine(err), false
		}
		return "OK remove " + f[1], false
	case len(f) == 2 && f[0] == "describe":
		res, err := p.DescribePlayerSessions(ctx, sdkmsg.DescribePlayerSessions{PlayerSessionId: f[1]})
		if err != nil {
			return errLine(err), false
		}
		return "OK describe " + jsonLine(res), false
	case len(f) == 2 && f[0] == "policy":
		if err := p.UpdatePlayerSessionCreationPolicy(ctx, f[1]); err != nil {
			return errLine(err), false
		}
		return "OK policy " + f[1], false
	case len(f) == 1 && f[0] == "session":
		gs, ok := p.GameSession()
		if !ok {
			return errLine(ErrNoGameSession), false
		}
		return "OK session " + jsonLine(sessionLine(gs)), false
	case len(f) == 1 && f[0] == "activate":
		if err := p.ActivateGameSession(ctx); err != nil {
			return errLine(err), false
		}
		return "OK activate " + p.GameSessionID(), false
	case len(f) == 1 && f[0] == "end":
		if err := p.processEnding(ctx); err != nil {
			// The game exits either way; the player hears why it was unclean.
			return errLine(err), true
		}
		return "OK end", true
	default:
		return "ERR 400 unknown command", false
	}
}

func (p *Process) acceptLine(ctx context.Context, id string) string {
	if err := p.AcceptPlayerSession(ctx, id); err != nil {
		return errLine(err)
	}
	return "OK accept " + id
}

func errLine(err error) string {
	msg := err.Error()
	var se *StatusError
	if errors.As(err, &se) {
		msg = se.Message
	}
	msg = strings.Join(strings.Fields(msg), " ") // one line, whatever the service sent
	return fmt.Sprintf("ERR %d %s", lineStatus(err), msg)
}

// jsonLine encodes v on one line; HTML escaping is off so that player data
// reads as it was stored.
func jsonLine(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimRight(b.String(), "\n")
}

// sessionView is the game session as a game built on the Go SDK sees it
// (model.GameSession): its field order, and Status left out while unknown.
type sessionView struct {
	GameSessionId             string            `json:"GameSessionId"`
	GameSessionData           string            `json:"GameSessionData"`
	Name                      string            `json:"Name"`
	MatchmakerData            string            `json:"MatchmakerData"`
	FleetId                   string            `json:"FleetId"`
	Location                  string            `json:"Location"`
	MaximumPlayerSessionCount int               `json:"MaximumPlayerSessionCount"`
	IpAddress                 string            `json:"IpAddress"`
	Port                      int               `json:"Port"`
	DnsName                   string            `json:"DnsName"`
	GameProperties            map[string]string `json:"GameProperties"`
	StatusReason              string            `json:"StatusReason"`
	Status                    string            `json:"Status,omitempty"`
}

func sessionLine(gs sdkmsg.GameSession) sessionView {
	return sessionView{
		GameSessionId:             gs.GameSessionId,
		GameSessionData:           gs.GameSessionData,
		Name:                      gs.Name,
		MatchmakerData:            gs.MatchmakerData,
		FleetId:                   gs.FleetId,
		Location:                  gs.Location,
		MaximumPlayerSessionCount: gs.MaximumPlayerSessionCount,
		IpAddress:                 gs.IpAddress,
		Port:                      gs.Port,
		DnsName:                   gs.DnsName,
		GameProperties:            gs.GameProperties,
		StatusReason:              gs.StatusReason,
		Status:                    gs.Status,
	}
}

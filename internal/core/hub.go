package core

import (
	"sync"

	"github.com/openlift/openlift/internal/sdkmsg"
)

// hub tracks the live WebSocket connection of each game server process.
type hub struct {
	mu    sync.RWMutex
	conns map[string]hubEntry // by process id
}

type hubEntry struct {
	id   sdkmsg.Identity
	conn sdkmsg.Conn
}

func (h *hub) attach(id sdkmsg.Identity, c sdkmsg.Conn) {
	h.mu.Lock()
	h.conns[id.ProcessID] = hubEntry{id: id, conn: c}
	h.mu.Unlock()
}

// detach removes c if it is still the process's current connection: a
// reconnect may already have replaced it.
func (h *hub) detach(id sdkmsg.Identity, c sdkmsg.Conn) {
	h.mu.Lock()
	if e, ok := h.conns[id.ProcessID]; ok && e.conn == c {
		delete(h.conns, id.ProcessID)
	}
	h.mu.Unlock()
}

func (h *hub) get(processID string) (sdkmsg.Conn, bool) {
	h.mu.RLock()
	e, ok := h.conns[processID]
	h.mu.RUnlock()
	return e.conn, ok
}

func (h *hub) connected(processID string) bool {
	_, ok := h.get(processID)
	return ok
}

// identity returns the identity a connected process presented.
func (h *hub) identity(processID string) (sdkmsg.Identity, bool) {
	h.mu.RLock()
	e, ok := h.conns[processID]
	h.mu.RUnlock()
	return e.id, ok
}

// byCompute returns the connected processes of one compute. Fleet ids are
// compared without their ARN form: processes pass whatever the host set.
func (h *hub) byCompute(fleetID, computeName string) []hubEntry {
	fid := fleetIDFromInput(fleetID)
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []hubEntry
	for _, e := range h.conns {
		if e.id.ComputeName == computeName && fleetIDFromInput(e.id.FleetID) == fid {
			out = append(out, e)
		}
	}
	return out
}

// computes returns the distinct computes with a live connection.
func (h *hub) computes() []computeKey {
	h.mu.RLock()
	defer h.mu.RUnlock()
	seen := map[computeKey]bool{}
	var out []computeKey
	for _, e := range h.conns {
		k := computeKey{fleetID: fleetIDFromInput(e.id.FleetID), computeName: e.id.ComputeName}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

package core

import (
	"sync"

	"github.com/openlift/openlift/internal/agentmsg"
)

// computeKey names a compute by fleet id (never an ARN) and compute name.
type computeKey struct {
	fleetID     string
	computeName string
}

func agentKey(id agentmsg.Identity) computeKey {
	return computeKey{fleetID: fleetIDFromInput(id.FleetID), computeName: id.ComputeName}
}

// agentHub tracks the live control connection of each compute's host agent.
// Its presence is what FORCE_TERMINATE needs, so it is the source of truth for
// "this compute runs an agent".
type agentHub struct {
	mu    sync.RWMutex
	conns map[computeKey]agentmsg.Conn
}

func (h *agentHub) attach(k computeKey, c agentmsg.Conn) {
	h.mu.Lock()
	h.conns[k] = c
	h.mu.Unlock()
}

// detach removes c if it is still the compute's connection: a reconnect may
// already have replaced it.
func (h *agentHub) detach(k computeKey, c agentmsg.Conn) {
	h.mu.Lock()
	if cur, ok := h.conns[k]; ok && cur == c {
		delete(h.conns, k)
	}
	h.mu.Unlock()
}

func (h *agentHub) get(fleetID, computeName string) (agentmsg.Conn, bool) {
	h.mu.RLock()
	c, ok := h.conns[computeKey{fleetID: fleetIDFromInput(fleetID), computeName: computeName}]
	h.mu.RUnlock()
	return c, ok
}

// byFleet returns the connected agents of one fleet.
func (h *agentHub) byFleet(fleetID string) []agentmsg.Conn {
	fid := fleetIDFromInput(fleetID)
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []agentmsg.Conn
	for k, c := range h.conns {
		if k.fleetID == fid {
			out = append(out, c)
		}
	}
	return out
}

// computes returns the computes with a connected agent.
func (h *agentHub) computes() []computeKey {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]computeKey, 0, len(h.conns))
	for k := range h.conns {
		out = append(out, k)
	}
	return out
}

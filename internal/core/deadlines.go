package core

import (
	"sync"
	"time"

	"github.com/openlift/openlift/internal/clock"
)

// deadlineQueue holds many deadlines that are (nearly) appended in order,
// because they all use the same timeout: one FIFO and one timer for its head,
// instead of one timer per player session.
type deadlineQueue struct {
	clk    clock.Clock
	fire   func(ids []string)
	mu     sync.Mutex
	items  []deadline
	head   int
	timer  clock.Timer
	armed  time.Time
	closed bool
}

type deadline struct {
	at time.Time
	id string
}

func newDeadlineQueue(clk clock.Clock, fire func(ids []string)) *deadlineQueue {
	return &deadlineQueue{clk: clk, fire: fire}
}

// add schedules id at time at.
func (q *deadlineQueue) add(at time.Time, ids ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	for _, id := range ids {
		q.items = append(q.items, deadline{at: at, id: id})
	}
	q.armLocked()
}

func (q *deadlineQueue) armLocked() {
	if q.head >= len(q.items) {
		return
	}
	next := q.items[q.head].at
	if q.timer != nil && !q.armed.After(next) {
		return // already armed for an earlier or equal time
	}
	if q.timer != nil {
		q.timer.Stop()
	}
	q.armed = next
	q.timer = q.clk.AfterFunc(next.Sub(q.clk.Now()), q.run)
}

// run fires every due deadline (items are nearly sorted: an entry a few
// milliseconds out of order fires with the batch after it).
func (q *deadlineQueue) run() {
	q.mu.Lock()
	q.timer = nil
	now := q.clk.Now()
	var due []string
	for q.head < len(q.items) && !q.items[q.head].at.After(now) {
		due = append(due, q.items[q.head].id)
		q.head++
	}
	if q.head > 1024 && q.head*2 > len(q.items) {
		q.items = append([]deadline(nil), q.items[q.head:]...)
		q.head = 0
	}
	q.armLocked()
	q.mu.Unlock()
	if len(due) > 0 {
		q.fire(due)
	}
}

func (q *deadlineQueue) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
}

// pending reports how many deadlines wait (for tests and metrics).
func (q *deadlineQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

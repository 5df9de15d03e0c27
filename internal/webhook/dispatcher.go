package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
)

// Options configures a Dispatcher. Zero values select the defaults.
type Options struct {
	Store   store.Store
	Routes  Routes
	Secrets *Secrets
	Client  *http.Client
	Logger  *slog.Logger

	// MinBackoff is the wait after a first failed attempt; it doubles per
	// attempt (with up to 20% jitter) up to MaxBackoff. Defaults 1 s and 5 min.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxAge is how long an event is retried before it is dropped (default 24 h).
	MaxAge time.Duration
	// Timeout bounds each POST (default 10 s).
	Timeout time.Duration
	// Concurrency is how many URLs are delivered to at once (default 8).
	Concurrency int
	// Batch is how many due deliveries one round takes (default 256).
	Batch int
}

// Dispatcher delivers the store's outbox to webhooks.
type Dispatcher struct {
	o    Options
	wake chan struct{}
}

// New returns a Dispatcher; Run starts it.
func New(o Options) (*Dispatcher, error) {
	if o.Store == nil || o.Secrets == nil {
		return nil, errors.New("webhook: Options.Store and Options.Secrets are required")
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Routes == nil {
		o.Routes = Routes{}
	}
	o.Secrets.Configure(o.Routes)
	// Generate missing secrets now rather than at the first delivery, so that
	// the operator can hand them to the receivers before any event is sent.
	for _, es := range o.Routes {
		for _, e := range es {
			if _, err := o.Secrets.For(e.URL); err != nil {
				return nil, fmt.Errorf("webhook secret for %s: %w", e.URL, err)
			}
		}
	}
	return &Dispatcher{o: o, wake: make(chan struct{}, 1)}, nil
}

// Notify tells the dispatcher that the outbox has new entries. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. Each round fans new events out to their URLs,
// delivers what is due, then sleeps until the next retry is due or Notify.
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		next, err := d.round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := time.Until(next)
		if err != nil {
			d.o.Logger.Error("webhook delivery round", "err", err)
			wait = d.o.MinBackoff
		}
		if next.IsZero() && err == nil {
			wait = time.Hour // nothing queued: only Notify wakes us
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-d.wake:
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// round does one pass and returns when the earliest remaining entry is due
// (zero: none left).
func (d *Dispatcher) round(ctx context.Context) (time.Time, error) {
	now := time.Now()
	var due []model.OutboxMessage
	err := d.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.ListOutbox(now, d.o.Batch)
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	var (
		fresh  []model.OutboxMessage
		byURL  = map[string][]model.OutboxMessage{}
		urls   []string
		fanned bool
	)
	for _, m := range due {
		if m.URL == "" {
			fresh = append(fresh, m)
			continue
		}
		if byURL[m.URL] == nil {
			urls = append(urls, m.URL)
		}
		byURL[m.URL] = append(byURL[m.URL], m)
	}
	if len(fresh) > 0 {
		if err := d.fanOut(ctx, fresh, now); err != nil {
			return time.Time{}, err
		}
		fanned = true
	}
	sem := make(chan struct{}, d.o.Concurrency)
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		sem <- struct{}{}
		go func(msgs []model.OutboxMessage) {
			defer func() { <-sem; wg.Done() }()
			d.deliverAll(ctx, msgs)
		}(byURL[u])
	}
	wg.Wait()
	if fanned {
		return now, nil // the new per-URL entries are due at once
	}
	var head []model.OutboxMessage
	err = d.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		head, err = tx.ListOutbox(time.Time{}, 1)
		return err
	})
	if err != nil || len(head) == 0 {
		return time.Time{}, err
	}
	return head[0].NextAttempt, nil
}

// fanOut replaces each event with one entry per webhook of its target, in
// one transaction. An event whose target has no webhook is dropped (and
// logged): nobody is listening, and keeping it would grow the outbox forever.
func (d *Dispatcher) fanOut(ctx context.Context, msgs []model.OutboxMessage, now time.Time) error {
	return d.o.Store.Update(ctx, func(tx store.Tx) error {
		for _, m := range msgs {
			for _, e := range d.endpoints(m.Target) {
				c := m
				c.ID = m.ID + "/" + urlKey(e.URL)
				c.URL = e.URL
				c.NextAttempt = now
				if err := tx.InsertOutbox(c); err != nil && !errors.Is(err, store.ErrConflict) {
					return err
				}
			}
			if len(d.endpoints(m.Target)) == 0 {
				d.o.Logger.Warn("no webhook for notification target; event dropped", "target", m.Target, "event", m.EventID)
			}
			if err := tx.DeleteOutbox(m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

// endpoints lists a target's webhooks: its route, or the target itself when
// it is a URL (the openlift extension).
func (d *Dispatcher) endpoints(target string) []Endpoint {
	if es := d.o.Routes[target]; len(es) > 0 {
		return es
	}
	if IsURL(target) {
		return []Endpoint{{URL: target}}
	}
	return nil
}

func urlKey(u string) string {
	h := sha256.Sum256([]byte(u))
	return hex.EncodeToString(h[:8])
}

// deliverAll delivers one URL's due entries in order. After a failure the
// rest wait with it: an endpoint that is down is tried once per round, not
// once per queued event.
func (d *Dispatcher) deliverAll(ctx context.Context, msgs []model.OutboxMessage) {
	for i, m := range msgs {
		err := d.deliver(ctx, m)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			d.settle(ctx, m, nil, time.Time{})
			continue
		}
		m.Attempts++
		next := time.Now().Add(d.backoff(m.Attempts))
		d.settle(ctx, m, err, next)
		for _, rest := range msgs[i+1:] {
			d.settle(ctx, rest, nil, next)
		}
		return
	}
}

// settle records an attempt: delivered (err nil, next zero) deletes the
// entry; otherwise it is rescheduled at next, or dropped when too old.
func (d *Dispatcher) settle(ctx context.Context, m model.OutboxMessage, deliverErr error, next time.Time) {
	err := d.o.Store.Update(ctx, func(tx store.Tx) error {
		if deliverErr == nil && next.IsZero() {
			return tx.DeleteOutbox(m.ID)
		}
		if deliverErr != nil {
			m.LastError = deliverErr.Error()
			if time.Since(m.CreationTime) > d.o.MaxAge {
				return tx.DeleteOutbox(m.ID)
			}
		}
		m.NextAttempt = next
		return tx.PutOutbox(m)
	})
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		d.o.Logger.Error("webhook outbox update", "event", m.EventID, "url", m.URL, "err", err)
	case deliverErr != nil && time.Since(m.CreationTime) > d.o.MaxAge:
		d.o.Logger.Error("webhook given up", "event", m.EventID, "url", m.URL, "attempts", m.Attempts, "err", deliverErr)
	case deliverErr != nil:
		d.o.Logger.Warn("webhook delivery failed; will retry", "event", m.EventID, "url", m.URL, "attempts", m.Attempts, "retryAt", next, "err", deliverErr)
	case next.IsZero():
		d.o.Logger.Debug("webhook delivered", "event", m.EventID, "url", m.URL)
	}
}

func (d *Dispatcher) backoff(attempts int32) time.Duration {
	b := d.o.MinBackoff
	for i := int32(1); i < attempts && b < d.o.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.o.MaxBackoff)
	return b + time.Duration(rand.Int64N(int64(b)/5+1))
}

// deliver POSTs one entry, signed afresh.
func (d *Dispatcher) deliver(ctx context.Context, m model.OutboxMessage) error {
	secret, err := d.o.Secrets.For(m.URL)
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	body := []byte(m.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "openlift-webhook/1")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderEventID, m.EventID)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	resp, err := d.o.Client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}

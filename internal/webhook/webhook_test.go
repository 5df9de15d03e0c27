package webhook_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/store"
	"github.com/openlift/openlift/internal/store/sqlite"
	"github.com/openlift/openlift/internal/webhook"
)

const topic = "arn:aws:sns:us-west-2:123456789012:placements"

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"detail":{"type":"PlacementFulfilled"}}`)
	sig := webhook.Sign("s3cret", "1700000000", body)
	if len(sig) != len("sha256=")+64 || sig[:7] != "sha256=" {
		t.Fatalf("signature %q", sig)
	}
	if err := webhook.Verify("s3cret", sig, "1700000000", body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for name, c := range map[string]struct {
		secret, sig, ts string
		body            []byte
		want            error
	}{
		"other secret":    {"other", sig, "1700000000", body, webhook.ErrBadSignature},
		"other timestamp": {"s3cret", sig, "1700000001", body, webhook.ErrBadSignature},
		"other body":      {"s3cret", sig, "1700000000", append(body, ' '), webhook.ErrBadSignature},
		"no prefix":       {"s3cret", sig[7:], "1700000000", body, webhook.ErrBadSignature},
		"empty":           {"s3cret", "", "1700000000", body, webhook.ErrBadSignature},
		"bad timestamp":   {"s3cret", sig, "soon", body, webhook.ErrBadTimestamp},
	} {
		if err := webhook.Verify(c.secret, c.sig, c.ts, c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
	now := time.Unix(1700000000, 0)
	if err := webhook.CheckTimestamp("1700000290", now, 5*time.Minute); err != nil {
		t.Errorf("CheckTimestamp within tolerance: %v", err)
	}
	if err := webhook.CheckTimestamp("1699999600", now, 5*time.Minute); !errors.Is(err, webhook.ErrStale) {
		t.Errorf("CheckTimestamp 400 s old: %v", err)
	}
}

func TestConfig(t *testing.T) {
	target, e, err := webhook.ParseFlag(topic + "=https://hooks.example/a?x=1")
	if err != nil || target != topic || e.URL != "https://hooks.example/a?x=1" || e.Secret != "" {
		t.Fatalf("ParseFlag: %q %+v %v", target, e, err)
	}
	for _, bad := range []string{topic, "=https://x/", topic + "=", topic + "=ftp://x/", topic + "=https://"} {
		if _, _, err := webhook.ParseFlag(bad); err == nil {
			t.Errorf("ParseFlag(%q) accepted", bad)
		}
	}
	path := filepath.Join(t.TempDir(), "webhooks.json")
	os.WriteFile(path, []byte(`{"`+topic+`": ["https://a.example/h", {"url": "https://b.example/h", "secret": "b-secret"}, "https://a.example/h"]}`), 0o600)
	r, err := webhook.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if es := r[topic]; len(es) != 2 || es[0].URL != "https://a.example/h" || es[1] != (webhook.Endpoint{URL: "https://b.example/h", Secret: "b-secret"}) {
		t.Fatalf("LoadFile: %+v", r)
	}
	for _, bad := range []string{`[]`, `{"t": ["notaurl"]}`, `{"t": [{"url": "https://x/", "secrett": "typo"}]}`, `{"": ["https://x/"]}`} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := webhook.LoadFile(path); err == nil {
			t.Errorf("LoadFile(%s) accepted", bad)
		}
	}
}

func TestSecretsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), webhook.SecretsFile)
	s, err := webhook.OpenSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Configure(webhook.Routes{topic: {{URL: "https://fixed/", Secret: "fixed-secret"}}})
	a, err := s.For("https://a/")
	if err != nil || len(a) < 32 {
		t.Fatalf("generated secret %q, %v", a, err)
	}
	if again, _ := s.For("https://a/"); again != a {
		t.Fatal("a second call generated another secret")
	}
	if f, _ := s.For("https://fixed/"); f != "fixed-secret" {
		t.Fatalf("configured secret: %q", f)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v %v", fi, err)
	}
	reopened, err := webhook.OpenSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := reopened.For("https://a/"); got != a {
		t.Fatalf("after reopening: %q, want %q", got, a)
	}
	b, _ := os.ReadFile(path)
	if string(b) == "" || strings.Contains(string(b), "fixed-secret") {
		t.Fatalf("the file keeps configured secrets or nothing: %s", b)
	}
}

// receiver is a webhook endpoint that verifies what it gets.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret func() string
	mu     sync.Mutex
	got    []delivery
	fail   int // answer 500 to this many requests first
	calls  int
	notify chan struct{}
}

type delivery struct {
	eventID, body string
	verified      bool
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{t: t, fail: fail, notify: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls++
		failing := r.calls <= r.fail
		var verified bool
		if r.secret != nil {
			verified = webhook.Verify(r.secret(), req.Header.Get(webhook.HeaderSignature), req.Header.Get(webhook.HeaderTimestamp), body) == nil &&
				webhook.CheckTimestamp(req.Header.Get(webhook.HeaderTimestamp), time.Now(), time.Minute) == nil
		}
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s with Content-Type %q", req.Method, req.Header.Get("Content-Type"))
		}
		if !failing {
			r.got = append(r.got, delivery{eventID: req.Header.Get(webhook.HeaderEventID), body: string(body), verified: verified})
		}
		r.mu.Unlock()
		if failing {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		r.notify <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(n int) []delivery {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]delivery(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.notify:
		case <-deadline:
			r.t.Fatalf("received %d deliveries, want %d", len(got), n)
		}
	}
}

type harness struct {
	st      *sqlite.Store
	secrets *webhook.Secrets
	dir     string
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	h := &harness{dir: dir}
	h.open(t)
	return h
}

func (h *harness) open(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(h.dir, "openlift.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.st = st
	if h.secrets, err = webhook.OpenSecrets(filepath.Join(h.dir, webhook.SecretsFile)); err != nil {
		t.Fatal(err)
	}
}

// run starts a dispatcher; the returned function stops it and waits.
func (h *harness) run(t *testing.T, routes webhook.Routes) (*webhook.Dispatcher, func()) {
	d, err := webhook.New(webhook.Options{Store: h.st, Routes: routes, Secrets: h.secrets, MinBackoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return d, stop
}

func (h *harness) publish(t *testing.T, id, target, body string) {
	t.Helper()
	now := time.Now()
	err := h.st.Update(context.Background(), func(tx store.Tx) error {
		return tx.InsertOutbox(model.OutboxMessage{ID: id, EventID: id, Target: target, Body: body, CreationTime: now, NextAttempt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) outbox(t *testing.T) []model.OutboxMessage {
	t.Helper()
	var out []model.OutboxMessage
	if err := h.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		out, err = tx.ListOutbox(time.Time{}, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) waitEmpty(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.outbox(t)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained: %+v", h.outbox(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDeliversToEveryRoutedURLSigned(t *testing.T) {
	h := newHarness(t)
	a, b := newReceiver(t, 0), newReceiver(t, 0)
	a.secret = func() string { return "a-secret" }
	b.secret = func() string { s, _ := h.secrets.For(b.srv.URL + "/hook"); return s }
	routes := webhook.Routes{topic: {{URL: a.srv.URL + "/hook", Secret: "a-secret"}, {URL: b.srv.URL + "/hook"}}}
	d, _ := h.run(t, routes)
	h.publish(t, "ev-1", topic, `{"id":"ev-1"}`)
	d.Notify()
	for _, r := range []*receiver{a, b} {
		got := r.wait(1)
		if got[0].eventID != "ev-1" || got[0].body != `{"id":"ev-1"}` || !got[0].verified {
			t.Fatalf("delivery: %+v", got[0])
		}
	}
	h.waitEmpty(t)
	// The generated secret is in the data directory's file, for the receiver's operator.
	reopened, _ := webhook.OpenSecrets(filepath.Join(h.dir, webhook.SecretsFile))
	if s, _ := reopened.For(b.srv.URL + "/hook"); s != b.secret() {
		t.Fatal("the generated secret was not persisted")
	}
}

func TestRetriesUntilDelivered(t *testing.T) {
	h := newHarness(t)
	r := newReceiver(t, 2) // fails twice, then succeeds
	r.secret = func() string { return "k" }
	d, _ := h.run(t, webhook.Routes{topic: {{URL: r.srv.URL, Secret: "k"}}})
	start := time.Now()
	h.publish(t, "ev-retry", topic, `{"id":"ev-retry"}`)
	d.Notify()
	got := r.wait(1)
	if got[0].eventID != "ev-retry" || !got[0].verified {
		t.Fatalf("delivery: %+v", got[0])
	}
	r.mu.Lock()
	calls := r.calls
	r.mu.Unlock()
	// 20 ms then 40 ms of backoff between the three attempts.
	if calls != 3 || time.Since(start) < 60*time.Millisecond {
		t.Fatalf("%d attempts in %v", calls, time.Since(start))
	}
	h.waitEmpty(t)
}

func TestDirectURLTargetAndUnroutedTopic(t *testing.T) {
	h := newHarness(t)
	r := newReceiver(t, 0)
	r.secret = func() string { s, _ := h.secrets.For(r.srv.URL + "/direct"); return s }
	d, _ := h.run(t, nil)
	h.publish(t, "ev-direct", r.srv.URL+"/direct", `{}`)
	h.publish(t, "ev-nobody", "arn:aws:sns:us-west-2:123456789012:unrouted", `{}`)
	d.Notify()
	if got := r.wait(1); got[0].eventID != "ev-direct" || !got[0].verified {
		t.Fatalf("delivery: %+v", got[0])
	}
	h.waitEmpty(t) // the unrouted event was dropped, not kept forever
}

func TestDeliveryResumesAfterRestart(t *testing.T) {
	h := newHarness(t)
	down := newReceiver(t, 1<<30) // never succeeds
	_, stop := h.run(t, webhook.Routes{topic: {{URL: down.srv.URL, Secret: "k"}}})
	h.publish(t, "ev-durable", topic, `{"id":"ev-durable"}`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ob := h.outbox(t)
		if len(ob) == 1 && ob[0].Attempts >= 1 && ob[0].URL == down.srv.URL && ob[0].LastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox: %+v", ob)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	h.st.Close()

	// The receiver is reachable again, under the same URL, after a restart.
	down.mu.Lock()
	down.fail = 0
	down.secret = func() string { return "k" }
	down.mu.Unlock()
	h.open(t)
	h.run(t, webhook.Routes{topic: {{URL: down.srv.URL, Secret: "k"}}})
	got := down.wait(1)
	if got[0].eventID != "ev-durable" || !got[0].verified {
		t.Fatalf("delivery after restart: %+v", got[0])
	}
	h.waitEmpty(t)
}

func TestNewRequiresStoreAndSecrets(t *testing.T) {
	if _, err := webhook.New(webhook.Options{}); err == nil {
		t.Fatal("New without a store accepted")
	}
}

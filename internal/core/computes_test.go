package core

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openlift/openlift/internal/apierr"
	"github.com/openlift/openlift/internal/model"
	"github.com/openlift/openlift/internal/sdkmsg"
	"github.com/openlift/openlift/internal/shapes"
	"github.com/openlift/openlift/internal/store"
)

func TestRegisterCompute(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	f.location("custom-b")
	fl := f.fleet("custom-a")
	other := f.fleet("custom-b")

	out := fxMust(f.svc.RegisterCompute(f.ctx, &shapes.RegisterComputeInput{
		FleetId:         ptr(fl.Arn),
		ComputeName:     ptr("host-1"),
		IpAddress:       ptr("2001:db8::7"),
		DnsName:         ptr("host-1.example.net"),
		Location:        ptr("custom-a"),
		CertificatePath: ptr("/etc/game/cert.pem"),
	}))(t)
	c := out.Compute
	got := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%v|%s|%s", deref(c.FleetId), deref(c.FleetArn), deref(c.ComputeName), deref(c.ComputeArn),
		deref(c.IpAddress), deref(c.DnsName), c.ComputeStatus, deref(c.Location), c.CreationTime.Time, deref(c.GameLiftServiceSdkEndpoint), c.OperatingSystem)
	want := fmt.Sprintf("%s|%s|host-1|arn:aws:gamelift:us-west-2:111122223333:compute/host-1|2001:db8::7|host-1.example.net|ACTIVE|custom-a|%v|%s|",
		fl.ID, fl.Arn, fxT0, fxEndpoint)
	if got != want {
		t.Fatalf("Compute =\n %s\nwant\n %s", got, want)
	}

	// Re-registering updates the address and keeps identity and tokens.
	tok := fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-1")}))(t)
	f.clk.Advance(time.Minute)
	again := fxMust(f.svc.RegisterCompute(f.ctx, &shapes.RegisterComputeInput{
		FleetId: ptr(fl.ID), ComputeName: ptr("host-1"), IpAddress: ptr("192.0.2.99"), Location: ptr("custom-a"),
	}))(t).Compute
	if deref(again.IpAddress) != "192.0.2.99" || again.DnsName != nil || !again.CreationTime.Time.Equal(fxT0) {
		t.Fatalf("re-registered compute = %+v", again)
	}
	tok2 := fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-1")}))(t)
	if *tok2.AuthToken != *tok.AuthToken {
		t.Fatal("re-registering replaced the compute's auth token")
	}
	// Names are per fleet.
	f.compute(other.ID, "host-1", "custom-b")
	// A name may carry one slash.
	f.compute(fl.ID, "rack-2/host-9", "custom-a")

	reg := func(mod func(in *shapes.RegisterComputeInput)) func() error {
		return func() error {
			in := &shapes.RegisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-x"), IpAddress: ptr("10.0.0.1"), Location: ptr("custom-a")}
			mod(in)
			_, err := f.svc.RegisterCompute(f.ctx, in)
			return err
		}
	}
	deleted := f.fleet("custom-a")
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(deleted.ID)}))(t)
	runErrCases(t, []errCase{
		{"FleetId missing", reg(func(in *shapes.RegisterComputeInput) { in.FleetId = nil }), "", "FleetId"},
		{"FleetId bad", reg(func(in *shapes.RegisterComputeInput) { in.FleetId = ptr("alias-1") }), "", "FleetId"},
		{"FleetId unknown", reg(func(in *shapes.RegisterComputeInput) { in.FleetId = ptr("fleet-unknown") }), "", "FleetId"},
		{"FleetId deleted", reg(func(in *shapes.RegisterComputeInput) { in.FleetId = ptr(deleted.ID) }), "", "FleetId"},
		{"ComputeName missing", reg(func(in *shapes.RegisterComputeInput) { in.ComputeName = nil }), "", "ComputeName"},
		{"ComputeName bad", reg(func(in *shapes.RegisterComputeInput) { in.ComputeName = ptr("host 1") }), "", "ComputeName"},
		{"ComputeName two slashes", reg(func(in *shapes.RegisterComputeInput) { in.ComputeName = ptr("a/b/c") }), "", "ComputeName"},
		{"ComputeName too long", reg(func(in *shapes.RegisterComputeInput) { in.ComputeName = ptr(strings.Repeat("h", 129)) }), "", "ComputeName"},
		{"IpAddress missing", reg(func(in *shapes.RegisterComputeInput) { in.IpAddress = nil; in.DnsName = ptr("h.example") }), "", "IpAddress"},
		{"IpAddress bad", reg(func(in *shapes.RegisterComputeInput) { in.IpAddress = ptr("host.example") }), "", "IpAddress"},
		{"IpAddress empty", reg(func(in *shapes.RegisterComputeInput) { in.IpAddress = ptr("") }), "", "IpAddress"},
		{"DnsName bad", reg(func(in *shapes.RegisterComputeInput) { in.DnsName = ptr("h/example") }), "", "DnsName"},
		{"DnsName too long", reg(func(in *shapes.RegisterComputeInput) { in.DnsName = ptr(strings.Repeat("d", 257)) }), "", "DnsName"},
		{"CertificatePath empty", reg(func(in *shapes.RegisterComputeInput) { in.CertificatePath = ptr("") }), "", "CertificatePath"},
		{"Location missing", reg(func(in *shapes.RegisterComputeInput) { in.Location = nil }), "", "Location"},
		{"Location bad", reg(func(in *shapes.RegisterComputeInput) { in.Location = ptr("custom a") }), "", "Location"},
		{"Location not the fleet's", reg(func(in *shapes.RegisterComputeInput) { in.Location = ptr("custom-b") }), "", "Location"},
	})
}

func TestDescribeListDeregisterCompute(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	f.location("custom-b")
	fl := f.fleet("custom-a", "custom-b")
	for i := 0; i < 5; i++ {
		loc := "custom-a"
		if i%2 == 1 {
			loc = "custom-b"
		}
		f.compute(fl.ID, fmt.Sprintf("host-%d", i), loc)
	}

	byArn := fxMust(f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.Arn), ComputeName: ptr(f.svc.computeArn("host-3"))}))(t)
	if deref(byArn.Compute.ComputeName) != "host-3" || deref(byArn.Compute.Location) != "custom-b" {
		t.Fatalf("DescribeCompute by ARN = %+v", byArn.Compute)
	}

	list := func(in shapes.ListComputeInput) []string {
		t.Helper()
		all, _ := walkPages(t, func(next *string) ([]shapes.Compute, *string, error) {
			in := in
			in.FleetId, in.Limit, in.NextToken = ptr(fl.ID), ptr(int32(2)), next
			out, err := f.svc.ListCompute(f.ctx, &in)
			if err != nil {
				return nil, nil, err
			}
			return out.ComputeList, out.NextToken, nil
		})
		var names []string
		for _, c := range all {
			names = append(names, deref(c.ComputeName))
		}
		return names
	}
	for _, tc := range []struct {
		name string
		in   shapes.ListComputeInput
		want string
	}{
		{"all", shapes.ListComputeInput{}, "[host-0 host-1 host-2 host-3 host-4]"},
		{"location", shapes.ListComputeInput{Location: ptr("custom-b")}, "[host-1 host-3]"},
		{"active", shapes.ListComputeInput{ComputeStatus: "ACTIVE"}, "[host-0 host-1 host-2 host-3 host-4]"},
		{"impaired", shapes.ListComputeInput{ComputeStatus: "IMPAIRED"}, "[]"},
		{"container group", shapes.ListComputeInput{ContainerGroupDefinitionName: ptr("my-group")}, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(list(tc.in)); got != tc.want {
				t.Fatalf("got %s; want %s", got, tc.want)
			}
		})
	}

	// Deregistering ends the compute's processes (and tells them) and removes it.
	conn := f.attach("proc-3", fl.ID, "host-3")
	f.putProcess(model.Process{ID: "proc-3", FleetID: fl.ID, ComputeName: "host-3", Location: "custom-b", Port: 1, Status: model.ProcessActive})
	f.putProcess(model.Process{ID: "proc-4", FleetID: fl.ID, ComputeName: "host-4", Location: "custom-a", Port: 1, Status: model.ProcessActive})
	fxMust(f.svc.DeregisterCompute(f.ctx, &shapes.DeregisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr(f.svc.computeArn("host-3"))}))(t)
	var p3, p4 model.Process
	f.update(func(tx store.Tx) error {
		var err error
		if p3, err = tx.GetProcess("proc-3"); err != nil {
			return err
		}
		p4, err = tx.GetProcess("proc-4")
		return err
	})
	if p3.Status != model.ProcessTerminated || p4.Status != model.ProcessActive {
		t.Fatalf("after deregistering host-3: proc-3 %s, proc-4 %s", p3.Status, p4.Status)
	}
	if conn.terminations() != 1 {
		t.Fatal("process on the deregistered compute was not told to terminate")
	}
	if got := fmt.Sprint(list(shapes.ListComputeInput{})); got != "[host-0 host-1 host-2 host-4]" {
		t.Fatalf("after deregister: %s", got)
	}

	runErrCases(t, []errCase{
		{"describe unknown compute", func() error {
			_, err := f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-3")})
			return err
		}, apierr.NotFound, "host-3"},
		{"describe unknown fleet", func() error {
			_, err := f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr("fleet-x"), ComputeName: ptr("host-0")})
			return err
		}, apierr.NotFound, "fleet-x"},
		{"describe ComputeName missing", func() error {
			_, err := f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID)})
			return err
		}, "", "ComputeName"},
		{"describe ComputeName bad", func() error {
			_, err := f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host_0")})
			return err
		}, "", "ComputeName"},
		{"describe FleetId missing", func() error {
			_, err := f.svc.DescribeCompute(f.ctx, &shapes.DescribeComputeInput{ComputeName: ptr("host-0")})
			return err
		}, "", "FleetId"},
		{"deregister again", func() error {
			_, err := f.svc.DeregisterCompute(f.ctx, &shapes.DeregisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-3")})
			return err
		}, apierr.NotFound, "host-3"},
		{"deregister unknown fleet", func() error {
			_, err := f.svc.DeregisterCompute(f.ctx, &shapes.DeregisterComputeInput{FleetId: ptr("fleet-x"), ComputeName: ptr("host-0")})
			return err
		}, apierr.NotFound, "fleet-x"},
		{"deregister ComputeName bad", func() error {
			_, err := f.svc.DeregisterCompute(f.ctx, &shapes.DeregisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("")})
			return err
		}, "", "ComputeName"},
		{"list unknown fleet", func() error {
			_, err := f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{FleetId: ptr("fleet-x")})
			return err
		}, "", "FleetId"},
		{"list FleetId missing", func() error {
			_, err := f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{})
			return err
		}, "", "FleetId"},
		{"list Location bad", func() error {
			_, err := f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{FleetId: ptr(fl.ID), Location: ptr("a b")})
			return err
		}, "", "Location"},
		{"list ComputeStatus bad", func() error {
			_, err := f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{FleetId: ptr(fl.ID), ComputeStatus: "PENDING"})
			return err
		}, "", "ComputeStatus"},
		{"list ContainerGroupDefinitionName bad", func() error {
			_, err := f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{FleetId: ptr(fl.ID), ContainerGroupDefinitionName: ptr("a b")})
			return err
		}, "", "ContainerGroupDefinitionName"},
		{"list Limit", func() error {
			_, err := f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{FleetId: ptr(fl.ID), Limit: ptr(int32(0))})
			return err
		}, "", "Limit"},
		{"list NextToken", func() error {
			_, err := f.svc.ListCompute(f.ctx, &shapes.ListComputeInput{FleetId: ptr(fl.ID), NextToken: ptr("zzz")})
			return err
		}, "", "NextToken"},
	})
}

var reAuthToken = regexp.MustCompile(`^[a-zA-Z0-9\-]{1,64}$`)

func TestComputeAuthTokenRotation(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "host-1", "custom-a")
	get := func() *shapes.GetComputeAuthTokenOutput {
		t.Helper()
		return fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-1")}))(t)
	}
	auth := func(tok string) error { return f.svc.Authenticate(f.ctx, fl.ID, "host-1", tok) }

	first := get()
	t1 := *first.AuthToken
	if !reAuthToken.MatchString(t1) || len(t1) < 32 {
		t.Fatalf("token %q does not look like an unguessable ComputeAuthToken", t1)
	}
	if got := fmt.Sprintf("%s|%s|%s|%s|%v", deref(first.FleetId), deref(first.FleetArn), deref(first.ComputeName), deref(first.ComputeArn), first.ExpirationTimestamp.Time); got !=
		fmt.Sprintf("%s|%s|host-1|%s|%v", fl.ID, fl.Arn, f.svc.computeArn("host-1"), fxT0.Add(time.Hour)) {
		t.Fatalf("GetComputeAuthToken = %s", got)
	}
	if err := auth(t1); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}

	// The same token and expiry until the token is within 15 minutes of expiry.
	f.clk.Advance(45*time.Minute - time.Millisecond)
	if again := get(); *again.AuthToken != t1 || !again.ExpirationTimestamp.Time.Equal(fxT0.Add(time.Hour)) {
		t.Fatalf("at 44m59.999s got %s expiring %v; want the first token unchanged", *again.AuthToken, again.ExpirationTimestamp.Time)
	}
	// At 45 minutes a new token is minted.
	f.clk.Advance(time.Millisecond)
	second := get()
	t2 := *second.AuthToken
	if t2 == t1 || !second.ExpirationTimestamp.Time.Equal(fxT0.Add(105*time.Minute)) {
		t.Fatalf("at 45m got %s expiring %v; want a new token expiring at 1h45m", t2, second.ExpirationTimestamp.Time)
	}
	if third := get(); *third.AuthToken != t2 {
		t.Fatal("the new token is not stable")
	}
	// Both tokens work until the first one's own expiry.
	f.clk.Advance(15*time.Minute - time.Millisecond)
	if err := auth(t1); err != nil {
		t.Fatalf("previous token refused before its expiry: %v", err)
	}
	if err := auth(t2); err != nil {
		t.Fatalf("current token refused: %v", err)
	}
	f.clk.Advance(time.Millisecond) // exactly 1h: the first token has expired
	wantErr(t, auth(t1), apierr.Unauthorized, "")
	if err := auth(t2); err != nil {
		t.Fatalf("current token refused: %v", err)
	}

	// The next rotation drops the first token for good and keeps the second
	// valid until its own expiry.
	f.clk.Advance(30 * time.Minute) // 1h30m: t2 has 15 min left
	t3 := *get().AuthToken
	if t3 == t2 || t3 == t1 {
		t.Fatal("no new token at the second rotation")
	}
	if err := auth(t2); err != nil {
		t.Fatalf("previous token refused before its expiry: %v", err)
	}
	f.clk.Advance(15 * time.Minute) // 1h45m: t2 expired
	wantErr(t, auth(t2), apierr.Unauthorized, "")
	if err := auth(t3); err != nil {
		t.Fatalf("current token refused: %v", err)
	}

	// A token left to expire unused is replaced outright.
	f.clk.Advance(2 * time.Hour)
	wantErr(t, auth(t3), apierr.Unauthorized, "")
	t4 := *get().AuthToken
	if t4 == t3 {
		t.Fatal("an expired token was handed out again")
	}
	wantErr(t, auth(t3), apierr.Unauthorized, "")

	runErrCases(t, []errCase{
		{"unknown compute", func() error {
			_, err := f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-2")})
			return err
		}, apierr.NotFound, "host-2"},
		{"unknown fleet", func() error {
			_, err := f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr("fleet-x"), ComputeName: ptr("host-1")})
			return err
		}, apierr.NotFound, "fleet-x"},
		{"FleetId missing", func() error {
			_, err := f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{ComputeName: ptr("host-1")})
			return err
		}, "", "FleetId"},
		{"ComputeName missing", func() error {
			_, err := f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID)})
			return err
		}, "", "ComputeName"},
	})
}

func TestAuthenticateRefusals(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "host-1", "custom-a")
	f.compute(fl.ID, "host-2", "custom-a")
	tok := *fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-1")}))(t).AuthToken

	if err := f.svc.Authenticate(f.ctx, fl.Arn, "host-1", tok); err != nil {
		t.Fatalf("fleet ARN refused: %v", err)
	}
	cases := []struct{ name, fleet, compute, token string }{
		{"wrong token", fl.ID, "host-1", strings.Repeat("0", 64)},
		{"token prefix", fl.ID, "host-1", tok[:32]},
		{"empty token", fl.ID, "host-1", ""},
		{"other compute", fl.ID, "host-2", tok}, // host-2 has no token yet
		{"unknown compute", fl.ID, "host-9", tok},
		{"unknown fleet", "fleet-00000000-0000-0000-0000-000000000000", "host-1", tok},
	}
	var msgs []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.Authenticate(f.ctx, tc.fleet, tc.compute, tc.token)
			wantErr(t, err, apierr.Unauthorized, "")
			msgs = append(msgs, apierr.As(err).Message)
		})
	}
	// A deregistered compute and a deleted fleet are refused too.
	fxMust(f.svc.DeregisterCompute(f.ctx, &shapes.DeregisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-1")}))(t)
	err := f.svc.Authenticate(f.ctx, fl.ID, "host-1", tok)
	wantErr(t, err, apierr.Unauthorized, "")
	msgs = append(msgs, apierr.As(err).Message)

	tok2 := *fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-2")}))(t).AuthToken
	fxMust(f.svc.DeleteFleet(f.ctx, &shapes.DeleteFleetInput{FleetId: ptr(fl.ID)}))(t)
	err = f.svc.Authenticate(f.ctx, fl.ID, "host-2", tok2)
	wantErr(t, err, apierr.Unauthorized, "")
	msgs = append(msgs, apierr.As(err).Message)

	// Every refusal reads the same, so none tells which part was wrong.
	for _, m := range msgs {
		if m != msgs[0] {
			t.Fatalf("refusal messages differ: %q vs %q", m, msgs[0])
		}
	}
}

func TestRefreshConnectionPushes(t *testing.T) {
	f := newFx(t)
	f.location("custom-a")
	fl := f.fleet("custom-a")
	f.compute(fl.ID, "host-1", "custom-a")
	f.compute(fl.ID, "host-2", "custom-a")
	get := func(name string) string {
		t.Helper()
		return *fxMust(f.svc.GetComputeAuthToken(f.ctx, &shapes.GetComputeAuthTokenInput{FleetId: ptr(fl.ID), ComputeName: ptr(name)}))(t).AuthToken
	}
	push := func(tok string) sdkmsg.RefreshConnection {
		return sdkmsg.RefreshConnection{Action: sdkmsg.PushRefreshConnection, RefreshConnectionEndpoint: fxEndpoint, AuthToken: tok}
	}
	a := f.attach("proc-a", fl.ID, "host-1")
	b := f.attach("proc-b", fl.ID, "host-1")
	wantPushes := func(what string, tokens ...string) {
		t.Helper()
		for name, r := range map[string]*recorder{"a": a, "b": b} {
			got := r.refreshes()
			if len(got) != len(tokens) {
				t.Fatalf("%s: process %s got %d pushes; want %d", what, name, len(got), len(tokens))
			}
			for i, tok := range tokens {
				if got[i] != push(tok) {
					t.Fatalf("%s: process %s push %d = %+v; want %+v", what, name, i, got[i], push(tok))
				}
			}
		}
	}

	// Whenever GetComputeAuthToken mints (here: the first token), connected
	// processes are pushed it at once, so that a rotation made by a caller
	// polling this operation never leaves them behind.
	t1 := get("host-1")
	wantPushes("first mint", t1)
	if get("host-1"); len(a.refreshes()) != 1 {
		t.Fatal("returning the unchanged token pushed again")
	}

	// The refresh loop runs every minute; host-2 (connected, no token at all)
	// is given one at the first tick. host-1's processes hear nothing before
	// three quarters of the token's lifetime.
	idle := f.attach("proc-c", fl.ID, "host-2")
	f.clk.Advance(44 * time.Minute)
	wantPushes("before 3/4", t1)
	if rs := idle.refreshes(); len(rs) != 1 || rs[0] != push(get("host-2")) {
		t.Fatalf("host-2 pushes = %+v; want one carrying its new token", rs)
	}

	// At 45 minutes the loop mints a new token and pushes it with the endpoint.
	f.clk.Advance(time.Minute)
	t2 := get("host-1")
	if t2 == t1 {
		t.Fatal("the refresh loop did not rotate the token at 45 min")
	}
	wantPushes("at 3/4", t1, t2)

	// A process that connects with the previous token is sent the current one
	// shortly after (with everyone else on the compute: one push per burst).
	late := f.attach("proc-late", fl.ID, "host-1")
	for i := 0; i < 3; i++ {
		if err := f.svc.Authenticate(f.ctx, fl.ID, "host-1", t1); err != nil {
			t.Fatalf("previous token refused: %v", err)
		}
	}
	if err := f.svc.Authenticate(f.ctx, fl.ID, "host-1", t2); err != nil {
		t.Fatalf("current token refused: %v", err)
	}
	f.clk.Advance(prevTokenRefreshDelay)
	if rs := late.refreshes(); len(rs) != 1 || rs[0] != push(t2) {
		t.Fatalf("late process got %+v; want one push of the current token", rs)
	}
	wantPushes("after previous-token connections", t1, t2, t2)

	// Nothing more while the token is fresh.
	f.clk.Advance(30 * time.Minute)
	wantPushes("while fresh", t1, t2, t2)

	// Deregistered computes are skipped by the loop.
	fxMust(f.svc.DeregisterCompute(f.ctx, &shapes.DeregisterComputeInput{FleetId: ptr(fl.ID), ComputeName: ptr("host-1")}))(t)
	f.clk.Advance(time.Hour)
	wantPushes("after deregistering", t1, t2, t2)
}

package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// botocoreCall sends body to GameLift.<op> over a real connection the way
// botocore does: awsJson1_1, signing only content-type;host;x-amz-date;
// x-amz-target and no payload-hash header (the Content-Length, Accept-Encoding
// and User-Agent it also sends are unsigned).
func botocoreCall(t *testing.T, srvURL, op string, body []byte, at time.Time) *http.Response {
	t.Helper()
	sign, err := http.NewRequest(http.MethodPost, srvURL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	sign.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sign.Header.Set("X-Amz-Target", targetPrefix+op)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		sign, hex.EncodeToString(sum[:]), "gamelift", testRegion, at); err != nil {
		t.Fatal(err)
	}
	auth := sign.Header.Get("Authorization")
	if !strings.Contains(auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-target,") {
		t.Fatalf("signer signed something else: %s", auth)
	}

	r, err := http.NewRequest(http.MethodPost, srvURL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header = sign.Header.Clone()
	r.Header.Set("Accept-Encoding", "identity")
	r.Header.Set("User-Agent", "Boto3/1.26.27 Python/3.11.2 Botocore/1.29.27")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// botocoreError applies botocore's rules (spec §1.5): the code is body __type
// only, cut at ':' and after '#'; the message is "message", else "Message".
func botocoreError(t *testing.T, body []byte) (code, message, modeled string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body is not JSON: %v (%s)", err, body)
	}
	typ, _ := m["__type"].(string)
	if typ != "" {
		typ, _, _ = strings.Cut(typ, ":")
		typ = typ[strings.LastIndex(typ, "#")+1:]
	}
	msg, ok := m["message"].(string)
	if !ok {
		msg, _ = m["Message"].(string)
	}
	modeled, _ = m["Message"].(string)
	return typ, msg, modeled
}

func TestBotocoreJSON(t *testing.T) {
	now := time.Now().UTC()
	srv := httptest.NewServer(newTestHandler(t, &sdkService{}, now))
	defer srv.Close()

	t.Run("success", func(t *testing.T) {
		res := botocoreCall(t, srv.URL, "CreateGameSession",
			[]byte(`{"FleetId": "fleet-1", "Name": "s1", "MaximumPlayerSessionCount": 10}`), now)
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
			t.Errorf("Content-Type %q", ct)
		}
		if res.Header.Get("X-Amzn-Requestid") == "" {
			t.Error("no x-amzn-RequestId")
		}
		var out struct {
			GameSession map[string]json.RawMessage
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		gs := out.GameSession
		// Timestamps are epoch-second numbers with a millisecond fraction,
		// never strings.
		for field, want := range map[string]string{
			"CreationTime":    "1795496295.123",
			"TerminationTime": "1795500000",
		} {
			if got := string(gs[field]); got != want {
				t.Errorf("%s = %s; want %s", field, got, want)
			}
		}
		// Integers carry no decimal point (old Go parses them with Int64).
		for field, want := range map[string]string{
			"MaximumPlayerSessionCount": "10", "CurrentPlayerSessionCount": "0", "Port": "7777",
		} {
			if got := string(gs[field]); got != want {
				t.Errorf("%s = %s; want %s", field, got, want)
			}
		}
		if got := string(gs["GameProperties"]); got != "[]" {
			t.Errorf("GameProperties = %s; want []", got)
		}
		if got := string(gs["Status"]); got != `"ACTIVE"` {
			t.Errorf("Status = %s", got)
		}
		if _, ok := gs["IpAddress"]; ok {
			t.Error("absent member IpAddress is sent; it must be omitted")
		}
	})

	t.Run("empty output", func(t *testing.T) {
		res := botocoreCall(t, srv.URL, "DeleteFleet", []byte(`{"FleetId": "fleet-1"}`), now)
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(raw) != "{}" {
			t.Errorf("status %d body %q; want 200 {}", res.StatusCode, raw)
		}
	})

	t.Run("modeled error", func(t *testing.T) {
		res := botocoreCall(t, srv.URL, "CreatePlayerSession",
			[]byte(`{"GameSessionId": "gsess-1", "PlayerId": "p1"}`), now)
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d", res.StatusCode)
		}
		code, msg, modeled := botocoreError(t, raw)
		if code != "GameSessionFullException" || msg != "Game session gsess-1 is full." || modeled != msg {
			t.Errorf("botocore would see code %q message %q Message %q (%s)", code, msg, modeled, raw)
		}
		if got := res.Header.Get("X-Amzn-Errortype"); got != code {
			t.Errorf("x-amzn-ErrorType %q", got)
		}
	})

	t.Run("pretty-printed body", func(t *testing.T) {
		// botocore writes ", " and ": " separators; any JSON whitespace must
		// decode, and the unsigned Content-Length is covered by the body hash.
		res := botocoreCall(t, srv.URL, "DeleteFleet", []byte(`{"FleetId":   "fleet-1"}`+"\n"), now)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("status %d", res.StatusCode)
		}
	})
}

package load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/smithy-go"
	"github.com/fxamacker/cbor/v2"
)

var cborEnc = func() cbor.EncMode {
	m, err := cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func listenLocal() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// request is one pre-encoded CreatePlayerSession: the body and its SHA-256,
// so that a request costs only the signature over them.
type request struct {
	gameSessionID string
	body          []byte
	hash          string
}

func newRequest(gameSessionID string) request {
	b, err := cborEnc.Marshal(struct {
		GameSessionId string
		PlayerId      string
	}{gameSessionID, "load-player"})
	if err != nil {
		panic(err) // two strings always encode
	}
	sum := sha256.Sum256(b)
	return request{gameSessionID: gameSessionID, body: b, hash: hex.EncodeToString(sum[:])}
}

// caller sends one CreatePlayerSession. It returns the player session id on
// success, or the error code the server gave ("" with err for a transport
// failure, whose outcome on the server is unknown).
type caller interface {
	call(ctx context.Context, r *request) (playerSessionID, code string, err error)
}

func newTransport(conns int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	tr.DisableCompression = true
	return tr
}

// rawClient is the cheap client: the SDK's SigV4 signer over pre-encoded CBOR
// bodies and a plain net/http request, no middleware stack.
type rawClient struct {
	hc     *http.Client
	url    string
	signer *v4.Signer
	creds  aws.Credentials
	region string
}

func newRawClient(endpoint, region string, creds aws.Credentials, conns int) *rawClient {
	return &rawClient{
		hc:     &http.Client{Transport: newTransport(conns)},
		url:    endpoint + "/service/GameLift/operation/CreatePlayerSession",
		signer: v4.NewSigner(),
		creds:  creds,
		region: region,
	}
}

var (
	hdrCBOR   = []string{"application/cbor"}
	hdrSmithy = []string{"rpc-v2-cbor"}
)

// reply holds the only members the client needs from either outcome.
type reply struct {
	PlayerSession struct {
		PlayerSessionId string
	}
	Type string `cbor:"__type"`
}

func (c *rawClient) call(ctx context.Context, r *request) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(r.body))
	if err != nil {
		return "", "", err
	}
	req.Header["Content-Type"] = hdrCBOR
	req.Header["Accept"] = hdrCBOR
	req.Header["Smithy-Protocol"] = hdrSmithy
	if err := c.signer.SignHTTP(ctx, c.creds, req, r.hash, "gamelift", c.region, time.Now()); err != nil {
		return "", "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", "", err
	}
	var rp reply
	if err := cbor.Unmarshal(body, &rp); err != nil {
		return "", "HTTP" + strconv.Itoa(resp.StatusCode), fmt.Errorf("decode reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		if rp.Type == "" {
			rp.Type = "HTTP" + strconv.Itoa(resp.StatusCode)
		}
		return "", rp.Type, errors.New(rp.Type)
	}
	return rp.PlayerSession.PlayerSessionId, "", nil
}

// sdkClient is the full aws-sdk-go-v2 client, what a Go game backend runs.
type sdkClient struct{ c *gamelift.Client }

func newSDK(endpoint, region string, creds aws.Credentials, conns int) *gamelift.Client {
	return gamelift.New(gamelift.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
		HTTPClient:       &http.Client{Transport: newTransport(conns)},
		RetryMaxAttempts: 1,
	})
}

func (c sdkClient) call(ctx context.Context, r *request) (string, string, error) {
	out, err := c.c.CreatePlayerSession(ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: &r.gameSessionID, PlayerId: aws.String("load-player")})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return "", ae.ErrorCode(), err
		}
		return "", "", err
	}
	if out.PlayerSession == nil || out.PlayerSession.PlayerSessionId == nil {
		return "", "EmptyReply", errors.New("no player session in the reply")
	}
	return *out.PlayerSession.PlayerSessionId, "", nil
}

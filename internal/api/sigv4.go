package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openlift/openlift/internal/apierr"
)

const (
	sigAlgorithm   = "AWS4-HMAC-SHA256"
	sigTerminator  = "aws4_request"
	signingService = "gamelift"
	amzDateLayout  = "20060102T150405Z"
	// maxSkew is how far X-Amz-Date may be from our clock in either direction,
	// as AWS allows.
	maxSkew = 15 * time.Minute
)

// authorization is a parsed SigV4 Authorization header. Every string is a
// substring of the header value, so parsing does not allocate.
type authorization struct {
	credential    string // <key>/<date>/<region>/<service>/aws4_request
	accessKeyID   string
	scope         string // credential without the key: the string-to-sign scope
	date          string
	region        string
	service       string
	signedHeaders string
	signature     string
}

// parseAuthorization reads the Authorization header. It only checks shape;
// whether the scope is acceptable is decided by checkScope.
func parseAuthorization(h http.Header) (authorization, *apierr.Error) {
	var a authorization
	vals := h["Authorization"]
	if len(vals) == 0 || vals[0] == "" {
		return a, apierr.New(apierr.MissingAuthenticationToken, "Missing Authentication Token")
	}
	if len(vals) > 1 {
		return a, apierr.New(apierr.IncompleteSignature, "The request carries more than one Authorization header.")
	}
	rest, ok := strings.CutPrefix(vals[0], sigAlgorithm+" ")
	if !ok {
		alg, _, _ := strings.Cut(vals[0], " ")
		return a, apierr.New(apierr.IncompleteSignature, "Unsupported AWS 'algorithm': '%s'; only %s is accepted.", clip(alg), sigAlgorithm)
	}
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	var missing []string
	for _, p := range [...]struct{ name, v string }{
		{"Credential", a.credential}, {"SignedHeaders", a.signedHeaders}, {"Signature", a.signature},
	} {
		if p.v == "" {
			missing = append(missing, "Authorization header requires '"+p.name+"' parameter.")
		}
	}
	if missing != nil {
		return a, apierr.New(apierr.IncompleteSignature, "%s", strings.Join(missing, " "))
	}
	// The access key cannot contain '/', so the credential has exactly five
	// slash-separated parts.
	parts := a.credential
	var fields [5]string
	for i := range fields {
		if i == len(fields)-1 {
			fields[i] = parts
			break
		}
		var ok bool
		fields[i], parts, ok = strings.Cut(parts, "/")
		if !ok {
			return a, apierr.New(apierr.IncompleteSignature,
				"Credential must have the form <AccessKeyId>/<yyyyMMdd>/<region>/%s/%s.", signingService, sigTerminator)
		}
	}
	if strings.Contains(fields[4], "/") || fields[0] == "" || fields[2] == "" {
		return a, apierr.New(apierr.IncompleteSignature,
			"Credential must have the form <AccessKeyId>/<yyyyMMdd>/<region>/%s/%s.", signingService, sigTerminator)
	}
	a.accessKeyID, a.date, a.region, a.service = fields[0], fields[1], fields[2], fields[3]
	a.scope = a.credential[len(a.accessKeyID)+1:]
	return a, nil
}

// checkScope validates the parts of the credential scope that do not depend on
// the secret. The region is whatever the client signed for: openlift serves
// every region name from one endpoint.
func checkScope(a *authorization, amzDate string) *apierr.Error {
	if a.service != signingService {
		return apierr.New(apierr.InvalidSignature, "Credential should be scoped to correct service: '%s'.", signingService)
	}
	if !strings.HasSuffix(a.credential, "/"+sigTerminator) {
		return apierr.New(apierr.InvalidSignature, "Credential should be scoped with a valid terminator: '%s'.", sigTerminator)
	}
	if len(amzDate) < 8 || a.date != amzDate[:8] {
		return apierr.New(apierr.InvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			clip(a.date), clip(amzDate[:min(8, len(amzDate))]), clip(amzDate))
	}
	return nil
}

// checkDate parses X-Amz-Date and enforces the skew window. The messages follow
// the ones AWS sends, which people search for.
func checkDate(h http.Header, now time.Time) (string, *apierr.Error) {
	amzDate := h.Get("X-Amz-Date")
	if amzDate == "" {
		return "", apierr.New(apierr.IncompleteSignature, "Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return "", apierr.New(apierr.IncompleteSignature, "X-Amz-Date '%s' is not in the format yyyyMMddTHHmmssZ.", clip(amzDate))
	}
	now = now.UTC()
	switch {
	case t.Before(now.Add(-maxSkew)):
		return "", apierr.New(apierr.InvalidSignature, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-maxSkew).Format(amzDateLayout), now.Format(amzDateLayout))
	case t.After(now.Add(maxSkew)):
		return "", apierr.New(apierr.InvalidSignature, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(maxSkew).Format(amzDateLayout), now.Format(amzDateLayout))
	}
	return amzDate, nil
}

const (
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgPayloadHashMismatch = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

// verifier checks signatures. It caches what repeats across requests: derived
// signing keys (one per key, day and region) and parsed SignedHeaders lists
// (one per client flavour).
type verifier struct {
	keys    boundedCache[*signingKey]
	headers boundedCache[[]signedHeader]
}

// signingKey is a derived key with a pool of HMACs already keyed with it:
// keying an HMAC costs two SHA-256 blocks and several allocations, which a
// Reset avoids. The secret is kept so a rotated secret never hits the cache.
type signingKey struct {
	secret string
	macs   sync.Pool // of hash.Hash
}

// signedHeader is one name from SignedHeaders together with the key under which
// net/http stores it, so lookups need no canonicalisation per request.
type signedHeader struct {
	lower     string
	canonical string
}

// verify checks the signature of r, whose body has already been read into body.
// It builds the canonical request and the string to sign in scratch and
// returns the grown buffer, with the canonical request in buf[:crLen] and the
// string to sign after it, so that a mismatch can be explained in the log.
func (v *verifier) verify(r *http.Request, a *authorization, amzDate, secret string, body []byte, scratch []byte) (buf []byte, crLen int, _ *apierr.Error) {
	names, err := v.parseSignedHeaders(a.signedHeaders)
	if err != nil {
		return scratch, 0, err
	}

	bodyHash := sha256.Sum256(body)
	var bodyHex [2 * sha256.Size]byte
	hex.Encode(bodyHex[:], bodyHash[:])
	// Only JS v3 sends this header. It must agree with the body, but we never
	// trust it in place of hashing the body ourselves.
	if vals, ok := r.Header["X-Amz-Content-Sha256"]; ok {
		if len(vals) != 1 || !equalFoldBytes(vals[0], bodyHex[:]) {
			return scratch, 0, apierr.New(apierr.InvalidSignature, msgPayloadHashMismatch)
		}
	}

	cr := scratch[:0]
	cr = append(cr, r.Method...)
	cr = append(cr, '\n')
	cr = appendCanonicalURI(cr, r.URL)
	cr = append(cr, '\n')
	cr = appendCanonicalQuery(cr, r.URL.RawQuery)
	cr = append(cr, '\n')
	for _, n := range names {
		cr = append(cr, n.lower...)
		cr = append(cr, ':')
		cr = appendHeaderValue(cr, r, n)
		cr = append(cr, '\n')
	}
	cr = append(cr, '\n')
	cr = append(cr, a.signedHeaders...)
	cr = append(cr, '\n')
	cr = append(cr, bodyHex[:]...)
	crHash := sha256.Sum256(cr)

	// The string to sign goes after the canonical request in the same buffer,
	// which is kept for the log if the signature does not match.
	crLen = len(cr)
	sts := append(cr, sigAlgorithm+"\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, a.scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crHash[:])

	sk := v.signingKey(a, secret)
	mac := sk.macs.Get().(hash.Hash)
	mac.Write(sts[crLen:])
	// Summing into the scratch buffer's spare room keeps the MAC off the heap.
	withMAC := mac.Sum(sts)
	want := withMAC[len(sts):]
	mac.Reset()
	sk.macs.Put(mac)
	sts = withMAC[:len(sts)]

	got, ok := decodeHex32(a.signature)
	if !ok || !hmac.Equal(got[:], want) {
		return sts, crLen, apierr.New(apierr.InvalidSignature, msgSignatureMismatch)
	}
	return sts, crLen, nil
}

// decodeHex32 decodes a 64-digit hex signature without allocating.
func decodeHex32(s string) (out [sha256.Size]byte, ok bool) {
	if len(s) != 2*len(out) {
		return out, false
	}
	for i := range out {
		hi, ok1 := hexDigit(s[2*i])
		lo, ok2 := hexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return out, false
		}
		out[i] = hi<<4 | lo
	}
	return out, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// equalFoldBytes compares ASCII case-insensitively without converting b to a
// string.
func equalFoldBytes(s string, b []byte) bool {
	if len(s) != len(b) {
		return false
	}
	for i := range b {
		x, y := s[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// parseSignedHeaders splits the client's SignedHeaders list, which is used
// verbatim (the clients sign different sets). Host and X-Amz-Date must be
// among them: without them a signature could be replayed to another host or
// outside the skew window.
func (v *verifier) parseSignedHeaders(s string) ([]signedHeader, *apierr.Error) {
	if names, ok := v.headers.get(s); ok {
		return names, nil
	}
	var names []signedHeader
	var host, date bool
	for n := range strings.SplitSeq(s, ";") {
		if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t:") {
			return nil, apierr.New(apierr.IncompleteSignature, "SignedHeaders '%s' is not a ;-separated list of lower-case header names.", clip(s))
		}
		host = host || n == "host"
		date = date || n == "x-amz-date"
		names = append(names, signedHeader{lower: n, canonical: textproto.CanonicalMIMEHeaderKey(n)})
	}
	if !host {
		return nil, apierr.New(apierr.IncompleteSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !date {
		return nil, apierr.New(apierr.IncompleteSignature, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}
	v.headers.put(strings.Clone(s), names)
	return names, nil
}

// signingKey derives (or recalls) HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date),
// region), service), "aws4_request").
func (v *verifier) signingKey(a *authorization, secret string) *signingKey {
	if k, ok := v.keys.get(a.credential); ok && k.secret == secret {
		return k
	}
	k := []byte("AWS4" + secret)
	for _, s := range [...]string{a.date, a.region, a.service, sigTerminator} {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(s))
		k = mac.Sum(nil)
	}
	sk := &signingKey{secret: secret}
	sk.macs.New = func() any { return hmac.New(sha256.New, k) }
	v.keys.put(strings.Clone(a.credential), sk)
	return sk
}

// appendHeaderValue writes the canonical value of one signed header: values
// joined with ',', each trimmed with inner runs of spaces collapsed. Host and
// Content-Length are not in r.Header on every path through net/http, so they
// come from the request fields.
func appendHeaderValue(b []byte, r *http.Request, n signedHeader) []byte {
	switch n.lower {
	case "host":
		return appendTrimmed(b, r.Host)
	case "content-length":
		if _, ok := r.Header["Content-Length"]; !ok && r.ContentLength >= 0 {
			return strconv.AppendInt(b, r.ContentLength, 10)
		}
	}
	for i, v := range r.Header[n.canonical] {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

func appendTrimmed(b []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, c)
	}
	return b
}

// appendCanonicalURI writes the path URI-encoded once more, as SigV4 does for
// every service but S3. Real GameLift paths are plain ASCII and pass through.
func appendCanonicalURI(b []byte, u *url.URL) []byte {
	if u.Path == "" {
		return append(b, '/')
	}
	if u.RawPath == "" && plainPath(u.Path) {
		return append(b, u.Path...)
	}
	p := u.EscapedPath()
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || unreserved(c) {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return b
}

func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c != '/' && !unreserved(c) {
			return false
		}
	}
	return true
}

// appendCanonicalQuery writes the sorted, encoded query. No GameLift client
// sends one, so the work is only done when there is one.
func appendCanonicalQuery(b []byte, raw string) []byte {
	if raw == "" {
		return b
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		// Leave it empty; the signature will not match and the client hears so.
		return b
	}
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, kv{k, v})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendURIEncoded(b, p.k)
		b = append(b, '=')
		b = appendURIEncoded(b, p.v)
	}
	return b
}

func appendURIEncoded(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return b
}

func appendPercent(b []byte, c byte) []byte {
	const hexUpper = "0123456789ABCDEF"
	return append(b, '%', hexUpper[c>>4], hexUpper[c&15])
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// clip keeps client-supplied text in error messages short.
func clip(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// boundedCache is a concurrent map that forgets everything when it grows past
// its bound. Its keys come from clients, so it must not grow without limit;
// the working set (a few keys, one scope per day and region) is tiny, so an
// occasional reset costs almost nothing.
type boundedCache[V any] struct {
	m sync.Map
	n atomic.Int64
}

const cacheBound = 1024

func (c *boundedCache[V]) get(k string) (V, bool) {
	v, ok := c.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (c *boundedCache[V]) put(k string, v V) {
	if c.n.Add(1) > cacheBound {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(k, v)
}

package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Endpoint is one webhook: a URL and, optionally, the secret to sign with
// (empty: a secret is generated and kept in the Secrets file).
type Endpoint struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

// Routes maps a notification target (an SNS topic ARN, as a queue's
// NotificationTarget names it) to the webhooks that receive its events.
type Routes map[string][]Endpoint

// Add routes target to the URL (with an optional secret), once.
func (r Routes) Add(target string, e Endpoint) {
	for i, have := range r[target] {
		if have.URL == e.URL {
			if e.Secret != "" {
				r[target][i].Secret = e.Secret
			}
			return
		}
	}
	r[target] = append(r[target], e)
}

// ParseFlag parses one --webhook value, "<topic-arn>=<url>". The ARN has no
// '=' in it, so the first '=' splits.
func ParseFlag(v string) (target string, e Endpoint, err error) {
	target, u, ok := strings.Cut(v, "=")
	if !ok || target == "" || u == "" {
		return "", Endpoint{}, fmt.Errorf("webhook %q: want <topic-arn>=<url>", v)
	}
	if err := checkURL(u); err != nil {
		return "", Endpoint{}, err
	}
	return target, Endpoint{URL: u}, nil
}

// LoadFile reads a --webhooks file: a JSON object from topic ARN to a list
// whose items are either a URL or {"url": …, "secret": …}.
func LoadFile(path string) (Routes, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string][]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("webhooks file %s: %w", path, err)
	}
	r := Routes{}
	for target, items := range raw {
		if target == "" {
			return nil, fmt.Errorf("webhooks file %s: empty topic ARN", path)
		}
		for _, it := range items {
			var e Endpoint
			var s string
			if err := json.Unmarshal(it, &s); err == nil {
				e.URL = s
			} else {
				d := json.NewDecoder(bytes.NewReader(it))
				d.DisallowUnknownFields()
				if err := d.Decode(&e); err != nil {
					return nil, fmt.Errorf("webhooks file %s, %s: each webhook is a URL or {\"url\", \"secret\"}: %w", path, target, err)
				}
			}
			if err := checkURL(e.URL); err != nil {
				return nil, fmt.Errorf("webhooks file %s, %s: %w", path, target, err)
			}
			r.Add(target, e)
		}
	}
	return r, nil
}

// IsURL reports whether a notification target is an http(s) URL rather
// than a topic ARN.
func IsURL(target string) bool { return checkURL(target) == nil }

func checkURL(v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return fmt.Errorf("webhook URL %q: %w", v, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("webhook URL %q: scheme must be http or https", v)
	case u.Host == "":
		return errors.New("webhook URL " + v + " has no host")
	}
	return nil
}

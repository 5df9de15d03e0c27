package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// DefaultRegion is used when neither AWS_REGION nor AWS_DEFAULT_REGION is set.
const DefaultRegion = "us-west-2"

// RegionFromEnv returns the region the way the AWS CLI picks it.
func RegionFromEnv(lookup func(string) (string, bool)) string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v, ok := lookup(k); ok && v != "" {
			return v
		}
	}
	return DefaultRegion
}

// CredentialsFromEnv finds credentials where AWS tools look first:
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the
// profile AWS_PROFILE (default "default") of the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), which is also
// the format of `openlift serve`'s admin-credentials file. Reading them here
// keeps the agent off aws-sdk-go-v2/config and its dependencies.
func CredentialsFromEnv(lookup func(string) (string, bool)) (aws.CredentialsProvider, error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	if id, secret := get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"); id != "" || secret != "" {
		if id == "" || secret == "" {
			return nil, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set")
		}
		return static(aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: get("AWS_SESSION_TOKEN"), Source: "environment"}), nil
	}
	path := get("AWS_SHARED_CREDENTIALS_FILE")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
		}
		path = filepath.Join(home, ".aws", "credentials")
	}
	profile := get("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	c, err := readSharedCredentials(path, profile)
	if err != nil {
		return nil, fmt.Errorf("no AWS credentials in the environment, and %w", err)
	}
	return static(c), nil
}

func static(c aws.Credentials) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

func readSharedCredentials(path, profile string) (aws.Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer f.Close()
	var (
		c  aws.Credentials
		in bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			in = strings.TrimSpace(line[1:len(line)-1]) == profile
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		case "aws_session_token":
			c.SessionToken = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return aws.Credentials{}, err
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Credentials{}, fmt.Errorf("%s has no profile %q with a key pair", path, profile)
	}
	c.Source = path
	return c, nil
}

// DefaultComputeName is the host name made acceptable to the SDK's HostID
// check ([a-zA-Z0-9-], at most 128 characters): anything else becomes '-'.
func DefaultComputeName() string {
	h, err := os.Hostname()
	if err != nil {
		h = ""
	}
	return sanitizeComputeName(h)
}

func sanitizeComputeName(h string) string {
	s := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			return c
		}
		return '-'
	}, h)
	s = strings.Trim(s, "-")
	if len(s) > 128 {
		s = strings.Trim(s[:128], "-")
	}
	if s == "" {
		s = "openlift-host"
	}
	return s
}

// DefaultIPAddress is the first IPv4 address of an interface that is up and
// not loopback, or 127.0.0.1: what players on the network can reach, or at
// least something RegisterCompute accepts on a laptop without a network.
func DefaultIPAddress() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip4 := n.IP.To4(); ip4 != nil && !ip4.IsLoopback() && !ip4.IsLinkLocalUnicast() {
					return ip4.String()
				}
			}
		}
	}
	return "127.0.0.1"
}

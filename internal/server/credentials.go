package server

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CredentialsFile is the admin key pair's file inside the data directory. Its
// format is an AWS shared-credentials file with the profile "openlift", so it
// can be used as AWS_SHARED_CREDENTIALS_FILE directly.
const CredentialsFile = "admin-credentials"

// adminCredentials is the one admin access key pair.
type adminCredentials struct {
	AccessKeyID, Secret string
}

// SecretFor implements api.Credentials.
func (c adminCredentials) SecretFor(accessKeyID string) (string, bool) {
	if accessKeyID == c.AccessKeyID {
		return c.Secret, true
	}
	return "", false
}

// loadOrCreateCredentials returns the admin credential: the given pair if set,
// else the one stored in dir, else a new one written to dir (mode 0600).
func loadOrCreateCredentials(dir, keyID, secret string) (adminCredentials, bool, error) {
	if keyID != "" || secret != "" {
		if keyID == "" || secret == "" {
			return adminCredentials{}, false, errors.New("both OPENLIFT_ADMIN_ACCESS_KEY_ID and OPENLIFT_ADMIN_SECRET_ACCESS_KEY must be set")
		}
		return adminCredentials{AccessKeyID: keyID, Secret: secret}, false, nil
	}
	path := filepath.Join(dir, CredentialsFile)
	c, err := readCredentials(path)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return adminCredentials{}, false, err
	}
	c = adminCredentials{AccessKeyID: "OLAK" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), Secret: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
	body := fmt.Sprintf("# openlift admin credential (created on first start)\n[openlift]\naws_access_key_id = %s\naws_secret_access_key = %s\n", c.AccessKeyID, c.Secret)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return adminCredentials{}, false, err
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return adminCredentials{}, false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return adminCredentials{}, false, err
	}
	return c, true, f.Close()
}

func readCredentials(path string) (adminCredentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return adminCredentials{}, err
	}
	defer f.Close()
	var c adminCredentials
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.Secret = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if c.AccessKeyID == "" || c.Secret == "" {
		return c, fmt.Errorf("%s: missing aws_access_key_id or aws_secret_access_key", path)
	}
	return c, nil
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

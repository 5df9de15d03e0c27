package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestSanitizeComputeName(t *testing.T) {
	for in, want := range map[string]string{
		"build-07":              "build-07",
		"host.example.com":      "host-example-com",
		"my_box":                "my-box",
		".weird.":               "weird",
		"":                      "openlift-host",
		"ünïcode":               "n-code",
		string(make([]byte, 3)): "openlift-host",
	} {
		if got := sanitizeComputeName(in); got != want {
			t.Errorf("sanitizeComputeName(%q) = %q; want %q", in, got, want)
		}
	}
	long := make([]byte, 200)
	for i := range long {
		long[i] = 'a'
	}
	if got := sanitizeComputeName(string(long)); len(got) != 128 {
		t.Errorf("a 200-character host name became %d characters; want 128", len(got))
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "credentials")
	os.WriteFile(file, []byte("# comment\n[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n[openlift]\naws_access_key_id=OL\naws_secret_access_key = ol/secret+=\naws_session_token = tok\n"), 0o600)
	for _, tc := range []struct {
		name       string
		env        map[string]string
		id, secret string
		session    string
		wantErr    bool
	}{
		{"environment", map[string]string{"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "s", "AWS_SHARED_CREDENTIALS_FILE": file}, "ENV", "envsecret", "s", false},
		{"half a pair", map[string]string{"AWS_ACCESS_KEY_ID": "ENV"}, "", "", "", true},
		{"default profile", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file}, "DEF", "defsecret", "", false},
		{"named profile", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "openlift"}, "OL", "ol/secret+=", "tok", false},
		{"missing profile", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "nope"}, "", "", "", true},
		{"missing file", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "nope")}, "", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CredentialsFromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := p.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if c.AccessKeyID != tc.id || c.SecretAccessKey != tc.secret || c.SessionToken != tc.session {
				t.Errorf("credentials %q/%q/%q; want %q/%q/%q", c.AccessKeyID, c.SecretAccessKey, c.SessionToken, tc.id, tc.secret, tc.session)
			}
		})
	}
}

func TestRegionFromEnv(t *testing.T) {
	env := map[string]string{}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if got := RegionFromEnv(lookup); got != DefaultRegion {
		t.Errorf("no env: %q", got)
	}
	env["AWS_DEFAULT_REGION"] = "eu-west-1"
	if got := RegionFromEnv(lookup); got != "eu-west-1" {
		t.Errorf("AWS_DEFAULT_REGION: %q", got)
	}
	env["AWS_REGION"] = "ap-south-1"
	if got := RegionFromEnv(lookup); got != "ap-south-1" {
		t.Errorf("AWS_REGION wins: %q", got)
	}
}

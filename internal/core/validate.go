package core

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/openlift/openlift/internal/apierr"
)

// Patterns from the GameLift model (spec/gamelift-api.md §3.1).
var (
	reFleetIDOrArn     = regexp.MustCompile(`^[a-z]*fleet-[a-zA-Z0-9\-]+$|^arn:.*:[a-z]*fleet\/[a-z]*fleet-[a-zA-Z0-9\-]+$`)
	reFleetID          = regexp.MustCompile(`^[a-z]*fleet-[a-zA-Z0-9\-]+$`)
	reAliasIDOrArn     = regexp.MustCompile(`^(alias-\S+|arn:.*:alias\/alias-\S+)$`)
	reArnString        = regexp.MustCompile(`^[a-zA-Z0-9:/-]+$`)
	reIDString         = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	reLocation         = regexp.MustCompile(`^[A-Za-z0-9\-]+$`)
	reCustomLocation   = regexp.MustCompile(`^custom-[A-Za-z0-9\-]+$`)
	reCustomLocOrArn   = regexp.MustCompile(`^(custom-[A-Za-z0-9\-]+|arn:.*:location\/custom-\S+)$`)
	reComputeName      = regexp.MustCompile(`^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`)
	reComputeNameOrArn = regexp.MustCompile(`^([a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?|arn:.*:compute\/[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?)$`)
	reIPAddress        = regexp.MustCompile(`^[0-9A-Fa-f\:\.]+$`)
	reDNSName          = regexp.MustCompile(`^[0-9a-zA-Z_\-\.]+$`)
	rePlayerSessionID  = regexp.MustCompile(`^psess-\S+$`)
	reNonBlank         = regexp.MustCompile(`^.*\S.*$`)
	reAnywhereCost     = regexp.MustCompile(`^\d{1,5}(?:\.\d{1,5})?$`)
	reLaunchPath       = regexp.MustCompile(`^[A-Za-z0-9_:.+\/\\\- ]+$`)
	reLaunchParameters = regexp.MustCompile(`^[A-Za-z0-9_:.+\/\\\- =@;{},?'\[\]"]+$`)
	reMetricGroup      = regexp.MustCompile(`^.*$`)
)

// checker collects the first constraint violation as an InvalidRequestException
// naming the member by its wire name.
type checker struct{ err *apierr.Error }

func (c *checker) fail(format string, args ...any) {
	if c.err == nil {
		c.err = apierr.Invalid(format, args...)
	}
}

func (c *checker) Err() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// required fails if the member is absent.
func (c *checker) required(name string, present bool) {
	if !present {
		c.fail("%s is required", name)
	}
}

// str checks an optional string member's length (in characters) and pattern.
// max < 0 means unbounded; re may be nil.
func (c *checker) str(name string, v *string, min, max int, re *regexp.Regexp) {
	if v == nil {
		return
	}
	n := utf8.RuneCountInString(*v)
	switch {
	case n < min || (max >= 0 && n > max):
		if max < 0 {
			c.fail("%s must be at least %d characters long", name, min)
		} else {
			c.fail("%s must be %d to %d characters long", name, min, max)
		}
	case re != nil && !re.MatchString(*v):
		c.fail("%s %q does not match the pattern %s", name, *v, re.String())
	}
}

// reqStr is required + str.
func (c *checker) reqStr(name string, v *string, min, max int, re *regexp.Regexp) {
	c.required(name, v != nil)
	c.str(name, v, min, max, re)
}

// strVal checks a string that is already known to be present (list items, nested members).
func (c *checker) strVal(name, v string, min, max int, re *regexp.Regexp) {
	c.str(name, &v, min, max, re)
}

// int32Range checks an optional integer member.
func (c *checker) int32Range(name string, v *int32, min, max int64) {
	if v == nil {
		return
	}
	if int64(*v) < min || int64(*v) > max {
		if max == maxInt32 {
			c.fail("%s must be at least %d", name, min)
		} else {
			c.fail("%s must be between %d and %d", name, min, max)
		}
	}
}

const maxInt32 = 1<<31 - 1

// enum checks an optional enum member ("" means absent).
func (c *checker) enum(name, v string, allowed ...string) {
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail("%s must be one of %s", name, strings.Join(allowed, ", "))
}

// count checks a list's length.
func (c *checker) count(name string, n, min, max int) {
	if n < min || (max >= 0 && n > max) {
		if max < 0 {
			c.fail("%s must contain at least %d items", name, min)
		} else {
			c.fail("%s must contain %d to %d items", name, min, max)
		}
	}
}

// fleetIDFromInput strips an ARN to the fleet id.
func fleetIDFromInput(v string) string {
	if i := strings.LastIndex(v, "/"); i >= 0 && strings.HasPrefix(v, "arn:") {
		return v[i+1:]
	}
	return v
}

// lastSegment returns what follows the last "/" of an ARN, or v itself.
func lastSegment(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if i := strings.LastIndex(v, "/"); i >= 0 {
			return v[i+1:]
		}
	}
	return v
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

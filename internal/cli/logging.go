package cli

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogger builds the text logger every subcommand writes to stderr; a bad
// -log-level is reported under the command's name.
func newLogger(command, level string, stderr io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("openlift %s: bad -log-level: %v", command, err)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l})), nil
}

package sim

import (
	"errors"
	"fmt"
)

// StatusError is a reply whose StatusCode was not 200.
type StatusError struct {
	Action     string
	StatusCode int
	Message    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("sim: %s failed: status %d: %s", e.Action, e.StatusCode, e.Message)
}

// ErrInvalidConfig wraps every problem Start finds in a Config.
var ErrInvalidConfig = errors.New("invalid simulator configuration")

// Errors a simulated SDK call can return besides *StatusError. The first
// three are checks the SDK makes locally, without sending anything.
var (
	ErrNotReady       = errors.New("sim: process is not ready (ActivateServerProcess has not succeeded)")
	ErrNoGameSession  = errors.New("sim: no game session has been started on this process")
	ErrInvalidInput   = errors.New("sim: invalid input")
	ErrTimeout        = errors.New("sim: timed out waiting for the service's reply")
	ErrConnectionLost = errors.New("sim: connection lost before the reply arrived")
	ErrEnded          = errors.New("sim: process has ended")
)

// lineStatus maps an error onto the status of an "ERR <status> <message>" line.
func lineStatus(err error) int {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return se.StatusCode
	case errors.Is(err, ErrNotReady), errors.Is(err, ErrNoGameSession), errors.Is(err, ErrInvalidInput):
		return 400
	case errors.Is(err, ErrTimeout):
		return 504
	default:
		return 503
	}
}

package loadgen

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// Classify names the kind of a client-side request error.
func Classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return KindReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindEOF
	case errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	default:
		return KindOther
	}
}

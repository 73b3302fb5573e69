package banqup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/notifykit/notifykit"
)

// MassTransit's MT-Reason values.
const (
	reasonFault      = "fault"
	reasonDeadLetter = "dead-letter"
)

// version goes into MT-Host-AssemblyVersion.
const version = "0.1"

// hostHeaders are the MT-Host-* headers describing this process, computed
// once per consumer.
func hostHeaders() amqp.Table {
	machine, _ := os.Hostname()
	process := filepath.Base(os.Args[0])
	return amqp.Table{
		"MT-Host-MachineName":            machine,
		"MT-Host-ProcessName":            process,
		"MT-Host-ProcessId":              strconv.Itoa(os.Getpid()),
		"MT-Host-Assembly":               "notifykit/banqup",
		"MT-Host-AssemblyVersion":        version,
		"MT-Host-MassTransitVersion":     "",
		"MT-Host-FrameworkVersion":       runtime.Version(),
		"MT-Host-OperatingSystemVersion": runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// maxFaultMessage bounds MT-Fault-Message: a decode error may quote a huge
// body, and AMQP headers share the frame size limit.
const maxFaultMessage = 4096

// faultInfo describes why a delivery is moved.
type faultInfo struct {
	reason      string // reasonFault or reasonDeadLetter
	err         error
	attempts    int    // handler runs; 0 when the handler never ran
	inputAddr   string // rabbitmq://host/vhost/queue
	messageType string // URN, when known
}

// copyForQueue builds the copy of d that goes to an error or skipped queue:
// original body and properties (expiration cleared, user-id dropped because
// the broker validates it against the publishing connection's user), the
// original headers plus MassTransit's MT-Reason, MT-Fault-* and MT-Host-*
// headers.
func copyForQueue(d *amqp.Delivery, f faultInfo, host amqp.Table) amqp.Publishing {
	h := make(amqp.Table, len(d.Headers)+len(host)+10)
	for k, v := range d.Headers {
		h[k] = v
	}
	delete(h, settleTagHeader) // a message moved before must not confuse our confirm tracking
	for k, v := range host {
		h[k] = v
	}
	h["MT-Reason"] = f.reason
	if f.reason == reasonFault {
		h["MT-Fault-ExceptionType"] = exceptionType(f.err)
		h["MT-Fault-Message"] = truncate(f.err.Error(), maxFaultMessage)
		h["MT-Fault-Timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
		h["MT-Fault-StackTrace"] = stackTrace(f.err)
		h["MT-Fault-ConsumerType"] = "notifykit/banqup.Consumer"
		h["MT-Fault-InputAddress"] = f.inputAddr
		if f.messageType != "" {
			h["MT-Fault-MessageType"] = f.messageType
		}
		if f.attempts > 1 {
			h["MT-Fault-RetryCount"] = int32(f.attempts - 1)
		}
	} else if f.err != nil {
		h["MT-Fault-Message"] = truncate(f.err.Error(), maxFaultMessage)
	}
	return amqp.Publishing{
		Headers:         h,
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		Priority:        d.Priority,
		CorrelationId:   d.CorrelationId,
		ReplyTo:         d.ReplyTo,
		MessageId:       d.MessageId,
		Timestamp:       d.Timestamp,
		Type:            d.Type,
		AppId:           d.AppId,
		Body:            d.Body,
	}
}

// exceptionType names the innermost error type that says something, the
// Go analogue of a .NET exception type name.
func exceptionType(err error) string {
	var pe *notifykit.PanicError
	if errors.As(err, &pe) {
		return "notifykit.PanicError"
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return "banqup.DecodeError"
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		// Skip generic wrappers (fmt.Errorf, Permanent) to reach the cause.
		switch err.(type) {
		case interface{ Is(error) bool }, interface{ As(any) bool }:
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}

func stackTrace(err error) string {
	var pe *notifykit.PanicError
	if errors.As(err, &pe) {
		return truncate(string(pe.Stack), maxFaultMessage)
	}
	return ""
}

func stack() []byte {
	buf := make([]byte, 16<<10)
	return buf[:runtime.Stack(buf, false)]
}

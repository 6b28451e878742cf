package sparkconnect

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// SparkError is an error raised by the Spark Connect server (an exception on the Spark side).
// Get it with errors.As:
//
//	var se *sparkconnect.SparkError
//	if errors.As(err, &se) && se.ErrorClass == "TABLE_OR_VIEW_NOT_FOUND" { ... }
//
// Spark 3.5 sends the exception classes in the ErrorInfo metadata "classes" and the error class
// only as the "[ERROR_CLASS]" prefix of the message; 4.x also sends errorClass and sqlState.
type SparkError struct {
	// Code is the gRPC status code (INTERNAL for Spark exceptions).
	Code codes.Code
	// ErrorClass is Spark's error class, e.g. "TABLE_OR_VIEW_NOT_FOUND" or
	// "PARSE_SYNTAX_ERROR"; empty for exceptions without one.
	ErrorClass string
	// SQLState is the SQLSTATE when the server sends it (4.x).
	SQLState string
	// Message is the exception message as sent by the server (it may be abbreviated).
	Message string
	// Reason is the Java exception class, e.g. "org.apache.spark.sql.AnalysisException".
	Reason string
	// Classes is the exception class hierarchy, most specific first.
	Classes []string
	// MessageParameters are the error class parameters when the server sends them (4.x).
	MessageParameters map[string]string
	// ErrorID identifies the error for FetchErrorDetails (4.x only).
	ErrorID string
	// StackTrace is the JVM stack trace when the server is configured to send it.
	StackTrace string
	status     *status.Status
}

func (e *SparkError) Error() string {
	if e.ErrorClass != "" && !strings.HasPrefix(e.Message, "["+e.ErrorClass+"]") {
		return fmt.Sprintf("spark: [%s] %s", e.ErrorClass, e.Message)
	}
	return "spark: " + e.Message
}

// GRPCStatus makes status.FromError and status.Code work on a SparkError.
func (e *SparkError) GRPCStatus() *status.Status { return e.status }

// Is matches another *SparkError by error class, so errors.Is(err, &SparkError{ErrorClass: X})
// works.
func (e *SparkError) Is(target error) bool {
	t, ok := target.(*SparkError)
	return ok && t.ErrorClass != "" && t.ErrorClass == e.ErrorClass
}

// ErrorClass returns the Spark error class of err, or "" when err is not a *SparkError.
func ErrorClass(err error) string {
	var se *SparkError
	if errors.As(err, &se) {
		return se.ErrorClass
	}
	return ""
}

var errorClassPrefix = regexp.MustCompile(`^\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\]`)

// errorFromStatus turns a gRPC error into a *SparkError when it carries Spark's ErrorInfo (or a
// Spark error class prefix); other errors are returned unchanged.
func errorFromStatus(err error) error {
	if err == nil {
		return nil
	}
	var se *SparkError
	if errors.As(err, &se) {
		return err
	}
	// the status itself, not status.FromError's copy whose message includes any wrapping
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) {
		return err
	}
	st := gs.GRPCStatus()
	if st.Code() == codes.OK {
		return err
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			info = ei
			break
		}
	}
	// 3.5 puts the error class only in the message, sometimes after a line break
	msg := strings.TrimSpace(st.Message())
	m := errorClassPrefix.FindStringSubmatch(msg)
	if info == nil && m == nil {
		return err
	}
	e := &SparkError{Code: st.Code(), Message: msg, status: st}
	if m != nil {
		e.ErrorClass = m[1]
	}
	if info != nil {
		e.Reason = info.GetReason()
		md := info.GetMetadata()
		if c := md["classes"]; c != "" {
			_ = json.Unmarshal([]byte(c), &e.Classes)
		}
		if c := md["errorClass"]; c != "" {
			e.ErrorClass = c
		}
		e.SQLState = md["sqlState"]
		e.ErrorID = md["errorId"]
		e.StackTrace = md["stackTrace"]
		if p := md["messageParameters"]; p != "" {
			_ = json.Unmarshal([]byte(p), &e.MessageParameters)
		}
	}
	return e
}

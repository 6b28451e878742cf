package sparkconnect

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func withInfo(t *testing.T, code codes.Code, msg string, info *errdetails.ErrorInfo) error {
	t.Helper()
	st, err := status.New(code, msg).WithDetails(info)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestErrorFromStatus(t *testing.T) {
	classes := `["org.apache.spark.sql.catalyst.parser.ParseException","org.apache.spark.sql.AnalysisException"]`
	tests := []struct {
		name      string
		err       error
		wantSpark bool
		want      SparkError
	}{
		{
			// as Spark 3.5.7 sends it (captured from the real server): class only in the message,
			// which starts with a line break
			name: "spark 3.5 parse error",
			err: withInfo(t, codes.Internal, "\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'.(line 1, pos 0)\n\n== SQL ==\nSELEC 1\n^^^\n",
				&errdetails.ErrorInfo{Reason: "org.apache.spark.sql.catalyst.parser.ParseException", Domain: "org.apache.spark", Metadata: map[string]string{"classes": classes}}),
			wantSpark: true,
			want: SparkError{Code: codes.Internal, ErrorClass: "PARSE_SYNTAX_ERROR", Reason: "org.apache.spark.sql.catalyst.parser.ParseException",
				Message: "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'.(line 1, pos 0)\n\n== SQL ==\nSELEC 1\n^^^",
				Classes: []string{"org.apache.spark.sql.catalyst.parser.ParseException", "org.apache.spark.sql.AnalysisException"}},
		},
		{
			name: "spark 4 metadata",
			err: withInfo(t, codes.Internal, "[TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found.",
				&errdetails.ErrorInfo{Reason: "org.apache.spark.sql.AnalysisException", Domain: "org.apache.spark", Metadata: map[string]string{
					"classes": `["org.apache.spark.sql.AnalysisException"]`, "errorClass": "TABLE_OR_VIEW_NOT_FOUND", "sqlState": "42P01",
					"messageParameters": `{"relationName":"` + "`x`" + `"}`, "errorId": "e-1"}}),
			wantSpark: true,
			want: SparkError{Code: codes.Internal, ErrorClass: "TABLE_OR_VIEW_NOT_FOUND", SQLState: "42P01", Reason: "org.apache.spark.sql.AnalysisException",
				Message: "[TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found.", Classes: []string{"org.apache.spark.sql.AnalysisException"},
				MessageParameters: map[string]string{"relationName": "`x`"}, ErrorID: "e-1"},
		},
		{
			name:      "dotted class without ErrorInfo",
			err:       status.Error(codes.Internal, "[INVALID_HANDLE.OPERATION_NOT_FOUND] Operation not found"),
			wantSpark: true,
			want:      SparkError{Code: codes.Internal, ErrorClass: "INVALID_HANDLE.OPERATION_NOT_FOUND", Message: "[INVALID_HANDLE.OPERATION_NOT_FOUND] Operation not found"},
		},
		{
			name: "exception without class",
			err: withInfo(t, codes.Internal, "java.lang.IllegalStateException: boom",
				&errdetails.ErrorInfo{Reason: "java.lang.IllegalStateException", Domain: "org.apache.spark"}),
			wantSpark: true,
			want:      SparkError{Code: codes.Internal, Reason: "java.lang.IllegalStateException", Message: "java.lang.IllegalStateException: boom"},
		},
		{name: "plain grpc error", err: status.Error(codes.Unavailable, "connection refused")},
		{name: "not a grpc error", err: errors.New("boom")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := errorFromStatus(fmt.Errorf("wrapped: %w", tc.err))
			var se *SparkError
			if !errors.As(got, &se) {
				if tc.wantSpark {
					t.Fatalf("%v is not a SparkError", got)
				}
				if !errors.Is(got, tc.err) {
					t.Fatalf("original error lost: %v", got)
				}
				return
			}
			if !tc.wantSpark {
				t.Fatalf("unexpected SparkError %v", se)
			}
			se.status = nil
			if !reflect.DeepEqual(*se, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", *se, tc.want)
			}
			if status.Code(errorFromStatus(tc.err)) != tc.want.Code {
				t.Fatalf("status.Code lost")
			}
			if ErrorClass(fmt.Errorf("outer: %w", errorFromStatus(tc.err))) != tc.want.ErrorClass {
				t.Fatalf("ErrorClass through wrapping")
			}
		})
	}
}

func TestSparkErrorIsByClass(t *testing.T) {
	err := fmt.Errorf("sql: %w", &SparkError{ErrorClass: "PARSE_SYNTAX_ERROR", Message: "[PARSE_SYNTAX_ERROR] x"})
	if !errors.Is(err, &SparkError{ErrorClass: "PARSE_SYNTAX_ERROR"}) {
		t.Fatal("errors.Is by class")
	}
	if errors.Is(err, &SparkError{ErrorClass: "OTHER"}) || errors.Is(err, &SparkError{}) {
		t.Fatal("matched a different class")
	}
	if got := err.Error(); got != "sql: spark: [PARSE_SYNTAX_ERROR] x" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, "x"), true},
		{status.Error(codes.Internal, "[INVALID_CURSOR.DISCONNECTED] gone"), true},
		{status.Error(codes.Internal, "[PARSE_SYNTAX_ERROR] x"), false},
		{status.Error(codes.InvalidArgument, "x"), false},
		{status.Error(codes.Canceled, "x"), false},
		{errors.New("x"), false},
	}
	for _, tc := range tests {
		if got := isRetryable(tc.err); got != tc.want {
			t.Errorf("isRetryable(%v) = %v", tc.err, got)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	p := DefaultRetryPolicy()
	for n := 0; n < 20; n++ {
		d := p.backoff(n)
		if d > p.MaxBackoff || d < 0 {
			t.Fatalf("backoff(%d) = %v", n, d)
		}
	}
	if d := p.backoff(0); d < p.InitialBackoff/2 || d > p.InitialBackoff {
		t.Fatalf("first backoff %v", d)
	}
}

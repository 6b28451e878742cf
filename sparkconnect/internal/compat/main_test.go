package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBothClientsInOneBinary: this test binary links both clients (it started, so neither
// registration panicked), and each client reaches the fake at Spark's method paths.
func TestBothClientsInOneBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := exercise(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files["spark.connect"] == 0 || res.Files["idxstream.sparkconnect.v1"] != 5 {
		t.Errorf("registered files per package %v", res.Files)
	}
	if res.Version != "3.5.6" {
		t.Errorf("version %q", res.Version)
	}
	if len(res.Rows) != 2 || res.Rows[0][0] != int64(1) || res.Rows[1][1] != "b" {
		t.Errorf("spark-connect-go collected %v", res.Rows)
	}
	want := []string{
		"/spark.connect.SparkConnectService/AnalyzePlan", // idxstream/sparkconnect: spark.version
		"/spark.connect.SparkConnectService/ExecutePlan", // spark-connect-go: sql command
		"/spark.connect.SparkConnectService/ExecutePlan", // spark-connect-go: collect
	}
	if !slices.Equal(res.Methods, want) {
		t.Errorf("methods %q, want %q", res.Methods, want)
	}
}

func TestRunPrints(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"linked " + sparkConnectGo + " v0.1.1-0.20250826122459-0e3d565b63e6", "linked idxstream/sparkconnect", "spark.version = 3.5.6"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

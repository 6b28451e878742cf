//go:build e2e

package e2e

import (
	"os"
	"testing"

	"idxstream/testkit"
)

// suite builds the three programs once and gives each test a namespace of its own, so that the
// dashboard under test shows exactly what the test produced.
var suite = testkit.NewSuite("e2e")

func TestMain(m *testing.M) { os.Exit(suite.Run(m)) }

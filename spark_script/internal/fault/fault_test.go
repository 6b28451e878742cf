package fault

import "testing"

// Without the faulthook tag, Hit is a no-op whatever JOB_FAULT says.
func TestHitWithoutTheTagDoesNothing(t *testing.T) {
	t.Setenv("JOB_FAULT", string(AggWritten))
	for _, p := range Points() {
		Hit(p)
	}
}

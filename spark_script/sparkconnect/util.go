package sparkconnect

import (
	"errors"
	"maps"
	"slices"
)

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

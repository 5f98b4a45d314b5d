package good

import "github.com/parleyim/parley/internal/features/lib"

// Use holds the seam only.
type Use struct {
	API  lib.API
	Kind lib.Kind
}

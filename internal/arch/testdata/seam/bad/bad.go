package bad

import other "github.com/parleyim/parley/internal/features/lib"

// Use reaches past the seam.
var Use = other.New()

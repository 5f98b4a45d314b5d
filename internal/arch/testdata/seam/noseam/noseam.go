package noseam

// Module has no seam.
type Module struct{}

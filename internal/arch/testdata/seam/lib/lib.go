package lib

// Module implements API.
type Module struct{}

// Do does nothing.
func (*Module) Do() {}

// New returns a Module.
func New() *Module { return &Module{} }

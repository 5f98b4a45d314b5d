package lib

// API is what other features may use.
type API interface{ Do() }

// Kind is a value the API carries.
type Kind int

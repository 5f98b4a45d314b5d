//go:build race

package clientmatrix

// raceBuild: under go test -race the server binary is built with the race
// detector too, so that real clients drive a race-checked server.
const raceBuild = true

// Package arch holds no code: its test checks the import tiers that
// docs/ARCHITECTURE.md describes, so a low-tier package never grows a
// dependency on a feature or on the wiring.
package arch

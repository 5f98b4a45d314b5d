// Package config owns Parley's configuration: the TOML schema (Config and
// its sections), the built-in defaults (Default), reading a file over those
// defaults (Load) and checking the result (Validate).
//
// Every problem it reports is a *Problem naming the offending key and, when
// the value came from a file, the file and line, so that an operator can go
// straight to it. Load reports what is wrong with the file as TOML: syntax
// errors, values of the wrong type and unknown keys. Validate reports what is
// wrong with the values: empty domain lists, unparsable addresses,
// non-positive limits, contradictory settings. Callers that change a loaded
// Config (command-line flags) call Validate after their changes.
//
// The package does not open listeners, files named in the configuration,
// databases or certificates: those belong to the packages that use the
// values (storage, tlsutil, c2s, ...). It does not apply command-line flags
// either; cmd/parley does.
package config

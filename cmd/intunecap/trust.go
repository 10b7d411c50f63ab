package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/analyze/certchain"
)

// registerTrust adds --trust to a command that analyzes captures.
func registerTrust(fs *pflag.FlagSet, path *string) {
	fs.StringVar(path, "trust", "", "also trust the CA certificates in `FILE.pem` (a TLS inspection CA exempted on purpose): chains under them are not intercepted")
}

// loadVerifier builds the run's certificate-chain verifier once: the public roots, and the roots of --trust
// when a file is given. Every engine of the run shares it.
func loadVerifier(trust string) (*certchain.Verifier, error) {
	public, err := certchain.PublicRoots()
	if err != nil {
		return nil, fmt.Errorf("load the public roots: %w", err)
	}
	if trust == "" {
		return certchain.NewVerifier(public, nil), nil
	}
	trusted, err := certchain.LoadTrust(trust)
	if err != nil {
		return nil, fmt.Errorf("--trust: %w", err)
	}
	return certchain.NewVerifier(public, trusted), nil
}

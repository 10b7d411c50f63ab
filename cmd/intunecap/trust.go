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

// loadVerifier makes the run's certificate-chain verifier: the public roots (built on the first chain: a
// capture without one never pays for them), and the roots of --trust when a file is given (read now, so a
// bad file is a usage error before any capture is read). Every engine of the run shares it.
func loadVerifier(trust string) (*certchain.Verifier, error) {
	if trust == "" {
		return certchain.NewPublicVerifier(nil), nil
	}
	trusted, err := certchain.LoadTrust(trust)
	if err != nil {
		return nil, fmt.Errorf("--trust: %w", err)
	}
	return certchain.NewPublicVerifier(trusted), nil
}

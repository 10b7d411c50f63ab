// Package rules owns what "compliant" means for intunecap: requirement tables (which names, addresses and
// ports a managed device must reach), the files they are written in, and a matcher fast enough to be asked
// about every connection in a capture.
//
// The package knows nothing about packets. The analysis engine hands it a name (from SNI, an HTTP Host, a
// CONNECT line or a DNS answer), a transport and a port, and gets back the most specific requirement row and
// the verdict a successful connection would earn.
package rules

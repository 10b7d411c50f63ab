package main

import "io"

// runCheck is being written (issue 5).
func runCheck(args []string, stdout, stderr io.Writer) int { return 2 }

// runBaseline is being written (issue 5).
func runBaseline(args []string, stdout, stderr io.Writer) int { return 2 }

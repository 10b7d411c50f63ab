package main

import "io"

// runLive is being written (issue 4).
func runLive(args []string, stdout, stderr io.Writer) int { return 2 }

// runInterfaces is being written (issue 4).
func runInterfaces(args []string, stdout, stderr io.Writer) int { return 2 }

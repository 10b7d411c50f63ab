// Package regress turns an analysis into a pass/fail answer for CI pipelines. A team records a capture after
// each firewall or proxy change; regress says whether Intune traffic still gets through, either against an
// expectations file written by hand (Expectations) or against a baseline recorded from a known-good capture
// (Baseline), and writes the answer in the formats CI systems read: JUnit XML, JSON and Markdown.
//
// The analysis reaches regress through a Collector, an result.Sink that keeps counts and a few example
// records per requirement and name, never the list of all records, so a long capture checks in bounded memory.
// Everything regress writes depends on the capture, the rules and the expectations alone: no wall clock, sorted
// output, so the same input gives the same bytes.
package regress

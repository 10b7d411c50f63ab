package report

import (
	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/result"
)

// pageOutcome is the report's one-word answer to "does Intune traffic get through?".
type pageOutcome string

const (
	outcomePass         pageOutcome = "PASS"
	outcomeFail         pageOutcome = "FAIL"
	outcomeInconclusive pageOutcome = "INCONCLUSIVE"
)

// decideOutcome is the HTML report's answer: the summary's outcome when the command judged it (outcome.Decide,
// as every command and writer does); otherwise, for a summary that was not judged, in order:
//
//   - FAIL when some record's verdict is in --fail-on (the summary's Failing, or the records counted here
//     when there is no summary): a failure seen on the wire is evidence however poor the rest of the capture.
//   - INCONCLUSIVE when the analysis ended before its summary, when no record matched a requirement ("no
//     Intune traffic seen": the capture may be from the wrong place or time), or when more than half of the
//     packets read could not be decoded (the absence of failures then proves little).
//   - PASS otherwise.
//
// failed and matched are the writer's own counts of failing records and records tied to a requirement. The
// returned string says why, in a few words, for INCONCLUSIVE.
func decideOutcome(s *result.Summary, failed, matched int) (pageOutcome, string) {
	if s != nil && s.Outcome != "" { // the command's judge decided (outcome.Decide): the same answer everywhere
		why := ""
		if len(s.OutcomeReasons) > 0 {
			why = s.OutcomeReasons[0]
		}
		return pageOutcome(outcome.Outcome(s.Outcome).Word()), why
	}
	if s != nil {
		failed = s.Failing
	}
	switch {
	case failed > 0:
		return outcomeFail, ""
	case s == nil:
		return outcomeInconclusive, "the analysis ended before its summary"
	case matched == 0:
		return outcomeInconclusive, "no Intune traffic seen"
	case s.Capture.Packets > 0 && s.Capture.Quality.Undecodable*2 > s.Capture.Packets:
		return outcomeInconclusive, "most packets could not be decoded"
	}
	return outcomePass, ""
}

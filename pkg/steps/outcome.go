package steps

// Outcome classifies one attempt of a step, so that a parallel block's
// summary can count them: how many responses had each status code, how
// many requests failed in each way. A load test reads little else. A step
// sets it in Input.Outcome; the zero value says nothing.
type Outcome struct {
	// Code is the protocol's result code, such as an HTTP status; 0 when
	// there was no response.
	Code int
	// Kind says how the attempt failed, one of the Kind constants (or a
	// word of the step's own, snake_case); empty when it succeeded.
	Kind string
}

// Kinds of failure that Outcome.Kind names.
const (
	// KindTimeout: no complete answer within the time allowed.
	KindTimeout = "timeout"
	// KindConnectionRefused: nothing listened at the address.
	KindConnectionRefused = "connection_refused"
	// KindReset: the connection was reset or closed mid-exchange.
	KindReset = "reset"
	// KindExpectation: an answer came and failed the step's expectations
	// (expect: status, body, checks).
	KindExpectation = "expectation_failed"
	// KindOther: any other failure.
	KindOther = "other"
)

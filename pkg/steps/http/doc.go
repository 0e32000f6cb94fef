// Package http is flowrun's `http` step type: one HTTP request per item,
// checked against what the workflow expects of the response.
//
// It registers itself in init; a flowrun binary includes it with a blank
// import. It is built on pkg/steps' public API alone, as a third-party step
// type would be.
//
//	steps:
//	  - id: copy
//	    parallel: {items: "${{ steps.list.output.body.namespaces }}", as: ns, workers: 8}
//	    retry: {attempts: 3, backoff: 500ms}
//	    http:
//	      method: POST
//	      url: http://127.0.0.1:8080/copy/${{ ns.name }}
//	      headers: {Authorization: "Bearer ${{ env.TOKEN }}"}
//	      json: {dry_run: false}
//	      timeout: 10s
//	      expect:
//	        status: [200, 201]
//	        json: body.copied > 0   # plain expr-lang, see below
//
// A scalar in place of the mapping is the URL: `http: https://example.com`.
//
// # Output
//
// Every item's output is a map with "status" (int), "headers" (the first
// value of each header, by canonical name), "body" (the parsed value when the
// response's Content-Type is JSON, otherwise the text) and "duration_ms".
//
// # Errors and retries
//
// Connection errors, timeouts and 5xx responses are plain errors, which the
// step's `retry:` retries. So are 408 Request Timeout and 429 Too Many
// Requests, which a server sends precisely to ask for a later retry. Any
// other status outside expect.status, a failed expect.json or
// expect.body_contains, a body larger than max_body and a configuration
// error are marked steps.Permanent: repeating the same request would give
// the same answer.
//
// # Expectations
//
// expect.status is a list of codes and classes ([200, 201, "3xx"]), or a
// single one; the default is "2xx". expect.json is an expr-lang expression
// (https://expr-lang.org) over the variables body, status and headers that
// must be true. It is a steps.Expression: flowrun compiles it when the
// workflow is loaded, and each `${{ }}` in it is a variable of the check
// bound to its value, so `body.copied == ${{ ns.items }}` compares against
// the item's value and an item "999 || true" is a string that does not
// match, not code that turns the check off.
//
// # Connections
//
// All http steps of a run share one *net/http.Transport, kept in the run's
// steps.Resources and sized to the items the run may have in flight, so a parallel block
// of N workers keeps N connections alive and reuses them instead of opening
// one per item (and running out of local ports in a load test). At most N
// connections to one host are open at once; a request beyond that waits,
// within its timeout, for one to be free. When the run cannot know N before
// it starts (a block's workers: computed from a step's output), there is no
// cap and every connection made is kept for the next request.
package http

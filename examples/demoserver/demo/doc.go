// Package demo is the local backend that flowrun's examples run against:
// an http.Handler that lists namespaces to migrate, records copies of them,
// and serves backends to health-check and load-test, with latency, failures
// and unhealthy backends configured through Options.
//
// Tests serve it with httptest; the demoserver command serves it on
// loopback for running the examples by hand. Its state (which namespaces
// were copied) lives in memory, per handler.
//
// # API
//
// Every response of these endpoints is JSON.
//
//	GET  /healthz                      {"status": "ok"}
//	GET  /namespaces                   {"namespaces": [{"name": "ns-1", "items": 120}, ...]}
//	POST /copy/{ns}                    {"namespace": "ns-1", "copied": 120}; 404 for an unknown namespace
//	GET  /copied                       {"copied": ["ns-1", ...]}, sorted
//	GET  /backends                     {"backends": ["users", ...]}
//	GET  /backends/{name}/health       200 {"backend": "users", "healthy": true}; 503 with false when unhealthy
//	GET  /backends/{name}/work?n=3     {"backend": "users", "n": 3, "result": 9}, after the backend's latency;
//	                                   500 for an injected failure, 503 when unhealthy
//
// An unknown backend is a 404 and a malformed n a 400, both with
// {"error": "..."}.
package demo

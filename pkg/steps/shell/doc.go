// Package shell provides flowrun's step types that run a child process:
// `run`, a script interpreted by a shell, and `exec`, a program started
// directly from an argument list.
//
// It uses only the public API of package steps, exactly as a third-party
// plugin would, and registers both types in init. A flowrun binary gets them
// by importing this package, usually through package all.
//
// # Processes
//
// The child gets exactly Input.Environ() as its environment, and starts in
// the step's `dir:`, resolved against Input.Dir (the workflow's directory).
// A program named without a slash is looked up in the PATH of that
// environment, not of flowrun's.
//
// Stdout is captured, at most MaxOutput bytes, and returned as a steps.Text
// (the pieces it was read in, never joined or copied) that flowrun parses
// per the step's `output:`. Stderr is streamed to Input.Log a
// line at a time as it arrives; its last non-empty line also ends the error
// message of a failed command, which is an *ExitError.
//
// The child leads its own process group, and every signal goes to the whole
// group, so the commands a script starts are stopped with it:
//
//   - When the context is done, the group gets SIGTERM, and SIGKILL once the
//     step's kill_grace has passed, or at once when Input.Kill is closed.
//   - When the child exits, however it exits, the group gets SIGKILL: a
//     background command (`server &`) never outlives its step.
//
// Only Unix is supported.
package shell

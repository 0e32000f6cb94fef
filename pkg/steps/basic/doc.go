// Package basic provides flowrun's step types that need no outside world:
// `sleep`, `log`, `set` and `assert`.
//
// It uses only the public API of package steps, exactly as a third-party
// plugin would, and registers every type in init. A flowrun binary gets
// them by importing this package, usually through package all.
//
//	steps:
//	  - sleep: 500ms
//	  - log: copying ${{ ns.name }}
//	  - id: limits
//	    set: {workers: 8, region: eu-west-1}
//	  - assert: ${{ steps.migrate.summary.failed == 0 }}
package basic

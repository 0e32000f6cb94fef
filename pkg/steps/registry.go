package steps

import (
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/flowrun/flowrun/internal/suggest"
)

// Info describes a step type. A package registers one Info per type from
// its init function.
type Info struct {
	// Type is the key that selects the step type in a workflow: a
	// lower-case identifier, optionally namespaced with dots
	// ("acme.notify"). Third-party types should use a namespace.
	Type string
	// Doc is a one-line description, shown by `flowrun steps`.
	Doc string
	// New returns a new, zero-configured value to decode a step's
	// configuration into. It must have no side effects.
	New func() Step
	// Shorthand is the yaml name of the field that a scalar or list fills
	// when the configuration is not a mapping (`sleep: 50ms`). Empty means
	// the type takes a mapping only.
	Shorthand string
}

var typeName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Registry maps step type names to their Info. The zero value is not
// usable; call NewRegistry. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	types map[string]Info
}

// NewRegistry returns an empty registry. Tests build their own instead of
// changing Default.
func NewRegistry() *Registry {
	return &Registry{types: make(map[string]Info)}
}

// Register adds a step type. It panics when the name is invalid or taken,
// or New is nil: these are programming errors found at start-up.
func (r *Registry) Register(info Info) {
	if !typeName.MatchString(info.Type) {
		panic(fmt.Sprintf("steps: invalid step type name %q: want lower-case identifiers separated by dots", info.Type))
	}
	if info.New == nil {
		panic(fmt.Sprintf("steps: step type %q has no New function", info.Type))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.types[info.Type]; dup {
		panic(fmt.Sprintf("steps: step type %q registered twice", info.Type))
	}
	r.types[info.Type] = info
}

// Lookup returns the Info registered under name. The error for a missing
// name suggests the closest registered one.
func (r *Registry) Lookup(name string) (Info, error) {
	r.mu.RLock()
	info, ok := r.types[name]
	r.mu.RUnlock()
	if ok {
		return info, nil
	}
	msg := fmt.Sprintf("unknown step type %q (forgotten import?)", name)
	if s := suggest.Closest(name, r.Names()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return Info{}, &UnknownTypeError{Name: name, msg: msg}
}

// Has reports whether name is registered.
func (r *Registry) Has(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.types[name]
	return ok
}

// Names returns the registered type names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// List returns every registered Info, sorted by type name.
func (r *Registry) List() []Info {
	names := r.Names()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Info, len(names))
	for i, n := range names {
		out[i] = r.types[n]
	}
	return out
}

// UnknownTypeError is returned by Lookup for a name nobody registered.
type UnknownTypeError struct {
	Name string
	msg  string
}

func (e *UnknownTypeError) Error() string { return e.msg }

// Default is the registry that built-in step types and plugins register
// into, and that flowrun uses unless told otherwise.
var Default = NewRegistry()

// Register adds a step type to Default; see Registry.Register.
func Register(info Info) { Default.Register(info) }

// Lookup finds a step type in Default; see Registry.Lookup.
func Lookup(name string) (Info, error) { return Default.Lookup(name) }

// List returns Default's step types, sorted; see Registry.List.
func List() []Info { return Default.List() }

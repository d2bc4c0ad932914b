// Package zero holds the one rule behind every config struct's defaults in
// classmesh: a field left at its zero value takes the documented default.
package zero

// Or sets *v to d when *v is the zero value of its type.
func Or[T comparable](v *T, d T) {
	var z T
	if *v == z {
		*v = d
	}
}

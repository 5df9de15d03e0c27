// Package storetest is the conformance suite for store.Store. Every backend
// runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … open an empty store … })
//	}
//	func TestDurable(t *testing.T) {
//		storetest.RunDurable(t, func(t *testing.T, dir string) store.Store { … open the store kept in dir … })
//	}
//
// The suite checks behaviour only through the store.Store interface, so a
// backend that passes can replace another without core noticing.
package storetest

package hq

// DummyHash exposes the hash compared for refused sign-ins (tests check its cost).
func (s *Store) DummyHash() []byte { return s.dummyHash() }

package sqlite

import (
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// KeySize is the size of the data key (AES-256).
const KeySize = seal.KeySize

// sealRUT encrypts a RUT (shared/seal: nonce || AES-GCM ciphertext).
func (s *Store) sealRUT(r queue.RUT) ([]byte, error) {
	return s.box.Seal([]byte(r.String()), "rut")
}

// hashRUT is the box's keyed hash of a RUT (tickets.rut_hash, with the box's
// own key): it never leaves the box.
func hashRUT(key []byte, r queue.RUT) string {
	return seal.HashRUT(key, r.String())
}

package sqlite

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"

	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// KeySize is the size of the data key (AES-256).
const KeySize = seal.KeySize

// sealRUT encrypts a RUT (shared/seal: nonce || AES-GCM ciphertext).
func (s *Store) sealRUT(r queue.RUT) ([]byte, error) {
	return s.box.Seal([]byte(r.String()), "rut")
}

// hashRUT is the keyed hash of a RUT (HMAC-SHA256, base64url), shared with the
// cloud when HQ configures the key.
func hashRUT(key []byte, r queue.RUT) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(r.String()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

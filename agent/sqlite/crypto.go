package sqlite

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/ticketero/ticketero/shared/queue"
)

// KeySize is the size of the data key (AES-256).
const KeySize = 32

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sqlite: data key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sqlite: data key: %w", err)
	}
	return cipher.NewGCM(block)
}

// deriveKey derives a purpose key from the data key.
func deriveKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// sealRUT encrypts a RUT: nonce || AES-GCM ciphertext.
func (s *Store) sealRUT(r queue.RUT) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(r.String()), []byte("rut"))
}

// openRUT decrypts a sealed RUT.
func (s *Store) openRUT(b []byte) (queue.RUT, error) {
	n := s.aead.NonceSize()
	if len(b) < n {
		return "", fmt.Errorf("sqlite: sealed RUT too short")
	}
	p, err := s.aead.Open(nil, b[:n], b[n:], []byte("rut"))
	if err != nil {
		return "", fmt.Errorf("sqlite: open RUT: %w", err)
	}
	return queue.RUT(p), nil
}

// hashRUT is the keyed hash of a RUT (HMAC-SHA256, base64url), shared with the
// cloud when HQ configures the key.
func hashRUT(key []byte, r queue.RUT) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(r.String()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

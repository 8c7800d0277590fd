// Package seal protects personal data at rest on both sides (the customer's RUT
// on the agent, Telegram chat IDs in the cloud): AES-256-GCM with a random
// nonce, stored as nonce || ciphertext, the value's purpose bound as additional
// data so a sealed RUT never opens as a chat ID; and HMAC-SHA256 key derivation.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the size of a sealing key (AES-256).
const KeySize = 32

// Box seals and opens small values with one key.
type Box struct{ aead cipher.AEAD }

// New returns a Box for a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain for purpose: nonce || ciphertext.
func (b *Box) Seal(plain []byte, purpose string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plain, []byte(purpose)), nil
}

// Open decrypts what Seal sealed for the same purpose.
func (b *Box) Open(sealed []byte, purpose string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("seal: sealed value too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return nil, fmt.Errorf("seal: open %s: %w", purpose, err)
	}
	return plain, nil
}

// Derive derives a key for label from key (HMAC-SHA256), so one data key
// yields independent sealing and hashing keys.
func Derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

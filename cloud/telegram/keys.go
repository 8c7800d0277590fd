package telegram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/seal"
)

// Keys seal personal data at rest (AES-256-GCM, shared/seal) and compute the
// keyed hashes used to find it (HMAC-SHA256), both derived from one 32-byte
// data key.
type Keys struct {
	box *seal.Box
	mac []byte
}

// NewKeys derives the sealing and hashing keys from a 32-byte data key.
func NewKeys(dataKey []byte) (*Keys, error) {
	if len(dataKey) != seal.KeySize {
		return nil, fmt.Errorf("telegram: data key must be 32 bytes, got %d", len(dataKey))
	}
	box, err := seal.New(seal.Derive(dataKey, "ticketero seal v1"))
	if err != nil {
		return nil, fmt.Errorf("telegram: data key: %w", err)
	}
	return &Keys{box: box, mac: seal.Derive(dataKey, "ticketero lookup v1")}, nil
}

// Lookup is the keyed hash of value in a namespace (kind), hex-encoded.
func (k *Keys) Lookup(kind, value string) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// ChatHash is the lookup key of a Telegram chat ID.
func (k *Keys) ChatHash(chatID int64) string { return k.Lookup("chat", strconv.FormatInt(chatID, 10)) }

// SealChat encrypts a chat ID: nonce || ciphertext.
func (k *Keys) SealChat(chatID int64) ([]byte, error) {
	var plain [8]byte
	binary.BigEndian.PutUint64(plain[:], uint64(chatID))
	sealed, err := k.box.Seal(plain[:], "telegram-chat")
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return sealed, nil
}

// OpenChat decrypts a sealed chat ID.
func (k *Keys) OpenChat(sealed []byte) (int64, error) {
	plain, err := k.box.Open(sealed, "telegram-chat")
	if err != nil || len(plain) != 8 {
		return 0, fmt.Errorf("telegram: open sealed chat: %w", errors.Join(err, errors.New("bad key or data")))
	}
	return int64(binary.BigEndian.Uint64(plain)), nil
}

// MaskChat shows a chat ID in logs: its last two digits only.
func MaskChat(chatID int64) string {
	s := strconv.FormatInt(chatID, 10)
	if len(s) <= 2 {
		return "***"
	}
	return strings.Repeat("*", len(s)-2) + s[len(s)-2:]
}

// ParseDataKey reads a 32-byte key written as base64 (std or URL) or hex.
func ParseDataKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("TICKETERO_DATA_KEY must be 32 bytes in base64 or hex")
}

// SealPhone encrypts a mobile number at rest (the SMS recipient's row).
func (k *Keys) SealPhone(phone string) ([]byte, error) {
	sealed, err := k.box.Seal([]byte(phone), "sms-phone")
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return sealed, nil
}

// OpenPhone decrypts SealPhone's output.
func (k *Keys) OpenPhone(sealed []byte) (string, error) {
	plain, err := k.box.Open(sealed, "sms-phone")
	if err != nil {
		return "", fmt.Errorf("telegram: open sealed phone: %w", err)
	}
	return string(plain), nil
}

// PhoneKeys are cloud.PhoneKeys: the RUT keys open what a branch sealed to
// the cloud (the same X25519 pair seals RUTs and numbers), the data key seals
// the number at rest.
type PhoneKeys struct {
	*Keys
	RUT *seal.RUTKeys
}

var _ cloud.PhoneKeys = PhoneKeys{}

// OpenBranchSealed opens a ticket.issued phone_sealed.
func (p PhoneKeys) OpenBranchSealed(sealed string) (string, error) { return p.RUT.Open(sealed) }

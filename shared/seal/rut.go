package seal

// RUT pseudonyms (docs/privacy.md, "Pseudonyms of the RUT"). A keyed hash of
// a RUT is personal data: with fewer than 10^8 RUTs, whoever holds the hash
// key reverses any hash in seconds. So the network-wide hash key never leaves
// the cloud: a branch box seals the RUT to the cloud's X25519 public key (an
// anonymous NaCl sealed box: ephemeral X25519, XSalsa20-Poly1305) and only the
// cloud opens it and computes the keyed hash. The box cannot open what it
// sealed, and holds no key that links a customer across branches.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// RUTSealKeySize is the size of the RUT sealing public key (X25519).
const RUTSealKeySize = 32

// MinRUTHashKey is the shortest RUT hash key accepted (bytes).
const MinRUTHashKey = 16

// maxSealedRUT bounds a sealed RUT on the wire (base64): a RUT is at most 10
// characters, the box adds 48 bytes.
const maxSealedRUT = 128

// ParseRUTSealKey decodes the RUT sealing public key as the config carries it
// (base64 of 32 bytes).
func ParseRUTSealKey(s string) (*[RUTSealKeySize]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != RUTSealKeySize {
		return nil, fmt.Errorf("seal: rut seal key must be base64 of %d bytes", RUTSealKeySize)
	}
	var k [RUTSealKeySize]byte
	copy(k[:], b)
	return &k, nil
}

// SealRUT seals a normalised RUT to the cloud's public key (anonymous sealed
// box, base64): only the holder of the private key opens it; the sealer
// cannot.
func SealRUT(pub *[RUTSealKeySize]byte, rut string) (string, error) {
	if pub == nil {
		return "", errors.New("seal: no rut seal key")
	}
	b, err := box.SealAnonymous(nil, []byte(rut), pub, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("seal: seal rut: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// HashRUT is the keyed hash of a normalised RUT: HMAC-SHA256, base64url
// without padding. Agents computed it with the same key before the key moved
// off the boxes, so earlier hashes stay comparable.
func HashRUT(key []byte, rut string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(rut))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// DecodeRUTHashKey decodes the network-wide RUT hash key as HQ configures it
// (TICKETERO_RUT_KEY: standard base64 of at least MinRUTHashKey bytes, as the
// agents decoded it when they held it, so hashes stay the same).
func DecodeRUTHashKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) < MinRUTHashKey {
		return nil, fmt.Errorf("seal: rut hash key must be standard base64 of at least %d bytes", MinRUTHashKey)
	}
	return k, nil
}

// RUTKeys is the cloud's side of RUT pseudonyms: the hash key and the X25519
// key pair derived from it (so a deployment needs no second secret; rotating
// the hash key rotates the pair, and HQ publishes configs again).
type RUTKeys struct {
	hashKey   []byte
	pub, priv [RUTSealKeySize]byte
}

// NewRUTKeys derives the sealing key pair from the hash key.
func NewRUTKeys(hashKey []byte) (*RUTKeys, error) {
	if len(hashKey) < MinRUTHashKey {
		return nil, fmt.Errorf("seal: rut hash key shorter than %d bytes", MinRUTHashKey)
	}
	k := &RUTKeys{hashKey: append([]byte(nil), hashKey...)}
	copy(k.priv[:], Derive(hashKey, "rut-seal-x25519"))
	pub, err := curve25519.X25519(k.priv[:], curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("seal: rut seal key: %w", err)
	}
	copy(k.pub[:], pub)
	return k, nil
}

// PublicKey is the sealing public key as the config carries it (base64).
func (k *RUTKeys) PublicKey() string { return base64.StdEncoding.EncodeToString(k.pub[:]) }

// Seal seals a RUT to the cloud's own public key, as a box does with the
// key from its config (SealRUT), without a round trip through base64.
func (k *RUTKeys) Seal(rut string) (string, error) { return SealRUT(&k.pub, rut) }

// Open opens a sealed RUT (SealRUT's output). The result is whatever was
// sealed: the caller validates it as a RUT.
func (k *RUTKeys) Open(sealed string) (string, error) {
	if len(sealed) > maxSealedRUT {
		return "", errors.New("seal: sealed rut too long")
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", errors.New("seal: sealed rut is not base64")
	}
	plain, ok := box.OpenAnonymous(nil, b, &k.pub, &k.priv)
	if !ok {
		return "", errors.New("seal: sealed rut does not open with this key")
	}
	return string(plain), nil
}

// Hash is HashRUT with the cloud's hash key.
func (k *RUTKeys) Hash(rut string) string { return HashRUT(k.hashKey, rut) }

// CheckInHash is what a branch box holds to check a booked (or remotely
// joined) customer in by the RUT he types at the kiosk, with no RUT on the
// box: argon2id of the normalised RUT, salted with the branch and business
// day, base64url without padding. The cloud computes it when it sends the
// booking; the kiosk computes it once for the typed RUT and looks it up among
// the day's bookings. Salted per branch and day and deliberately slow (about
// 20 ms), so a stolen box's table costs days of CPU per branch-day to reverse.
func CheckInHash(branch, day, rut string) string {
	salt := []byte("ticketero/check-in/v1/" + branch + "/" + day)
	return base64.RawURLEncoding.EncodeToString(argon2.IDKey([]byte(rut), salt, 1, 16*1024, 1, 16))
}

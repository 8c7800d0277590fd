package cloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/ticketero/ticketero/shared/enrollapi"
	"github.com/ticketero/ticketero/shared/queue"
)

// EnrollCode is a one-time enrolment code as created.
type EnrollCode struct {
	Code      string    `json:"code"`
	Branch    string    `json:"branch"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RevokedCertificate is a branch certificate just revoked in the registry.
type RevokedCertificate struct {
	Fingerprint, Provisioner, ExternalID string
}

// CertificateFingerprint is the hex SHA-256 of a certificate's DER (AWS IoT's
// certificate ID is the same value).
func CertificateFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// EnrollStore keeps enrolment codes, the certificate registry and the audit
// trail of enrolment.
type EnrollStore interface {
	// CreateCode makes a one-time code for branch, valid for ttl, and audits
	// it with actor. The branch must exist.
	// Errors: invalid branch.invalid, enroll.ttl_invalid; not_found enroll.branch_unknown.
	CreateCode(ctx context.Context, branch queue.BranchID, actor string, ttl time.Duration) (EnrollCode, error)
	// Redeem uses code once, from the address from, and returns its branch.
	// check, when set, runs before the use commits: its error leaves the code
	// unused. Errors: unauthorized enroll.code_invalid, or check's.
	Redeem(ctx context.Context, code, from string, check func(queue.BranchID) error) (queue.BranchID, error)
	// RecordCertificate adds an issued certificate to the registry.
	RecordCertificate(ctx context.Context, branch queue.BranchID, provisioner string, der []byte, externalID, serial string, notAfter time.Time, actor, from string) error
	// CertificateActive reports whether the certificate with DER der is
	// registered to branch, not revoked and not expired.
	// Errors: unauthorized enroll.proof_invalid.
	CertificateActive(ctx context.Context, branch queue.BranchID, der []byte) error
	// Revoke marks every active certificate of branch but the one with
	// fingerprint keep (may be empty) as revoked and returns what it revoked.
	Revoke(ctx context.Context, branch queue.BranchID, keep, actor string) ([]RevokedCertificate, error)
	// Config returns the newest configuration snapshot published for branch
	// (raw event.Config JSON), or nil when none was published yet.
	Config(ctx context.Context, branch queue.BranchID) (json.RawMessage, error)
	// Resume returns the cloud's state of branch for a replacement box.
	// Errors: not_found enroll.branch_unknown.
	Resume(ctx context.Context, branch queue.BranchID) (enrollapi.ResumeState, error)
}

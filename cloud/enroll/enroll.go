// Package enroll is the cloud side of a branch box's enrolment: one-time
// enrolment codes an HQ admin creates (they expire, are used once and every use
// is audited), provisioners that turn the box's certificate signing request into
// a client certificate (a local CA for on-premises and development, AWS IoT Core
// in production), certificate renewal by proof of possession of the current
// key, and the resume state a replacement box seeds its numbering from.
//
// The private key never leaves the box: the box sends only a CSR.
package enroll

import (
	"context"
	"crypto/x509"
	"encoding/pem"

	"github.com/ticketero/ticketero/shared/enrollapi"
	"github.com/ticketero/ticketero/shared/queue"
)

// Credentials is what a provisioner returns for a CSR: the signed client
// certificate (PEM), the CA bundle the box must trust for the broker (PEM) and
// the broker's endpoint (mqtts://host:8883).
type Credentials struct {
	CertificatePEM string
	CAPEM          string
	Broker         string
	// ExternalID is the provisioner's own ID of the certificate (AWS IoT's
	// certificate ID), empty for the local CA.
	ExternalID string
}

// Provisioner signs a branch's CSR. The certificate's identity (CN for the
// local CA, thing name for AWS IoT) is the branch, whatever the CSR says.
type Provisioner interface {
	// Name identifies the provisioner in the certificate registry ("local-ca", "aws-iot").
	Name() string
	// Provision returns credentials for branch from csr (DER, signature already
	// checked). Errors: invalid enroll.csr_invalid, unavailable enroll.provisioner.
	Provision(ctx context.Context, branch queue.BranchID, csr *x509.CertificateRequest) (Credentials, error)
}

// Deactivator is a provisioner that can also switch off a certificate it
// issued (AWS IoT: UpdateCertificate INACTIVE), so the broker refuses it.
type Deactivator interface {
	Deactivate(ctx context.Context, externalID string) error
}

// ParseCSR decodes a PEM certificate request and checks its signature, its key
// (ECDSA P-256/P-384 or RSA ≥ 2048) and that its CN, when set, is the branch.
// Errors: invalid enroll.csr_invalid.
func ParseCSR(csrPEM string, branch queue.BranchID) (*x509.CertificateRequest, error) {
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return nil, err
	}
	if cn := csr.Subject.CommonName; cn != "" && cn != string(branch) {
		return nil, queue.Errorf(queue.CodeInvalid, "enroll.csr_invalid", "CN "+cn)
	}
	return csr, nil
}

func parseCSR(csrPEM string) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode([]byte(csrPEM))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, queue.Errorf(queue.CodeInvalid, "enroll.csr_invalid", "PEM")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, queue.Errorf(queue.CodeInvalid, "enroll.csr_invalid", "DER")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, queue.Errorf(queue.CodeInvalid, "enroll.csr_invalid", "signature")
	}
	if err := checkKey(csr.PublicKey); err != nil {
		return nil, err
	}
	return csr, nil
}

// ResumeState is the branch's state for a replacement box (shared contract).
type ResumeState = enrollapi.ResumeState

// OpenTicket is a ticket open in the cloud's projection (shared contract).
type OpenTicket = enrollapi.OpenTicket

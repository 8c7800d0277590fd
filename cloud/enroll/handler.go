package enroll

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/clientip"
	"github.com/ticketero/ticketero/shared/enrollapi"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
)

// MaxBody is the largest request body the enrolment API reads.
const MaxBody = 64 << 10

// ProofWindow is how far a proof's timestamp may be from the cloud's clock.
const ProofWindow = 5 * time.Minute

// Handler serves the enrolment API:
//
//	POST /api/v1/enroll                      {code, csr} → 201 EnrollResponse
//	POST /api/v1/enroll/renew                Proof with csr → 200 EnrollResponse (no config)
//	POST /api/v1/enroll/resume               Proof → 200 ResumeState
//	POST /api/v1/branches/{id}/enroll-codes  {ttl_s} → 201 Code (HQ admin, through Authorize)
type Handler struct {
	Store       cloud.EnrollStore
	Provisioner Provisioner
	Logger      *slog.Logger
	// Authorize decides who may create enrolment codes (an HQ admin session or
	// API token): it returns the actor to audit, or an error (unauthorized /
	// forbidden). Nil refuses every request, so the route is never open.
	Authorize func(r *http.Request) (actor string, err error)
	Now       func() time.Time
	// Proxy says which proxy in front of the cloud may name the client
	// (the HQ web's setting); the zero Proxy audits the peer address.
	Proxy clientip.Proxy

	once   sync.Once
	router http.Handler
}

// EnrollRequest, EnrollResponse and Proof are the shared HTTP contract
// (shared/enrollapi), so the box and the cloud cannot drift apart.
type (
	EnrollRequest  = enrollapi.Request
	EnrollResponse = enrollapi.Response
	Proof          = enrollapi.Proof
)

// ProofMessage is the byte string a Proof signs.
func ProofMessage(purpose, branch string, at time.Time, csr string) []byte {
	return enrollapi.ProofMessage(purpose, branch, at, csr)
}

// ServeHTTP routes the enrolment API (the routes are built on first use:
// Handler is configured through its fields).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		m := chi.NewRouter()
		m.Post("/api/v1/enroll", h.enroll)
		m.Post("/api/v1/enroll/renew", h.renew)
		m.Post("/api/v1/enroll/resume", h.resume)
		m.Post("/api/v1/branches/{id}/enroll-codes", h.createCode)
		h.router = m
	})
	h.router.ServeHTTP(w, r)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger.With("component", "enroll")
	}
	return slog.New(slog.DiscardHandler)
}

func (h *Handler) enroll(w http.ResponseWriter, r *http.Request) {
	var req EnrollRequest
	if err := decode(w, r, &req); err != nil {
		h.problem(w, r, err)
		return
	}
	if req.Code == "" || req.CSR == "" {
		h.problem(w, r, queue.Errorf(queue.CodeInvalid, "enroll.request_invalid"))
		return
	}
	// The CSR is checked before the code is spent: a malformed request never
	// burns the technician's code. Its CN is checked against the branch inside
	// the redeeming transaction.
	if _, err := parseCSR(req.CSR); err != nil {
		h.problem(w, r, err)
		return
	}
	ctx := r.Context()
	var csr *x509.CertificateRequest
	branch, err := h.Store.Redeem(ctx, req.Code, h.Proxy.Of(r), func(b queue.BranchID) error {
		var err error
		csr, err = ParseCSR(req.CSR, b)
		return err
	})
	if err != nil {
		h.problem(w, r, err)
		return
	}
	resp, err := h.issue(ctx, branch, csr, "branch:"+string(branch), h.Proxy.Of(r), true)
	if err != nil {
		h.problem(w, r, err)
		return
	}
	if resp.Config, err = h.Store.Config(ctx, branch); err != nil {
		h.problem(w, r, err)
		return
	}
	st, err := h.Store.Resume(ctx, branch)
	if err != nil {
		h.problem(w, r, err)
		return
	}
	resp.Resume = &st
	h.log().Info("branch enrolled", "branch", string(branch), "provisioner", h.Provisioner.Name(), "not_after", resp.NotAfter)
	writeJSON(w, http.StatusCreated, resp)
}

// issue provisions a certificate and records it. With replace (an enrolment)
// every other certificate of the branch is revoked: a branch has one box. A
// renewal leaves the previous certificate valid until it expires, so a box
// that lost the answer (power cut while writing) can still renew with it.
func (h *Handler) issue(ctx context.Context, branch queue.BranchID, csr *x509.CertificateRequest, actor, from string, replace bool) (EnrollResponse, error) {
	cred, err := h.Provisioner.Provision(ctx, branch, csr)
	if err != nil {
		return EnrollResponse{}, err
	}
	block, _ := pem.Decode([]byte(cred.CertificatePEM))
	if block == nil {
		return EnrollResponse{}, queue.Errorf(queue.CodeUnavailable, "enroll.provisioner", "certificate PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return EnrollResponse{}, queue.Errorf(queue.CodeUnavailable, "enroll.provisioner", "certificate")
	}
	if err := h.Store.RecordCertificate(ctx, branch, h.Provisioner.Name(), cert.Raw, cred.ExternalID, cert.SerialNumber.Text(16), cert.NotAfter, actor, from); err != nil {
		return EnrollResponse{}, err
	}
	if !replace {
		return EnrollResponse{
			Branch: string(branch), Certificate: cred.CertificatePEM, CA: cred.CAPEM, Broker: cred.Broker,
			NotAfter: cert.NotAfter.UTC(), Config: json.RawMessage("null"),
		}, nil
	}
	// A new box: the previous box's certificate is revoked, and deactivated
	// where the provisioner can.
	revoked, err := h.Store.Revoke(ctx, branch, cloud.CertificateFingerprint(cert.Raw), actor)
	if err != nil {
		return EnrollResponse{}, err
	}
	if d, ok := h.Provisioner.(Deactivator); ok {
		for _, r := range revoked {
			if r.Provisioner != h.Provisioner.Name() {
				continue
			}
			if err := d.Deactivate(ctx, r.ExternalID); err != nil {
				// The new certificate is issued; the old one stays revoked in
				// the registry and an operator can deactivate it by hand.
				h.log().Error("old certificate not deactivated", "branch", string(branch), "certificate", r.ExternalID, "err", err)
			}
		}
	}
	return EnrollResponse{
		Branch: string(branch), Certificate: cred.CertificatePEM, CA: cred.CAPEM, Broker: cred.Broker,
		NotAfter: cert.NotAfter.UTC(), Config: json.RawMessage("null"),
	}, nil
}

// verify checks a proof: fresh, signed by the key of a registered, active
// certificate of the branch. Errors: unauthorized enroll.proof_invalid.
func (h *Handler) verify(ctx context.Context, p Proof, purpose string) (queue.BranchID, error) {
	bad := queue.Errorf(queue.CodeUnauthorized, "enroll.proof_invalid")
	branch, err := queue.ParseBranchID(p.Branch)
	if err != nil {
		return "", err
	}
	if d := h.now().Sub(p.At); d > ProofWindow || d < -ProofWindow {
		return "", bad
	}
	block, _ := pem.Decode([]byte(p.Certificate))
	if block == nil {
		return "", bad
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", bad
	}
	sig, err := base64.StdEncoding.DecodeString(p.Signature)
	if err != nil {
		return "", bad
	}
	var algo x509.SignatureAlgorithm
	switch cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		algo = x509.ECDSAWithSHA256
	case *rsa.PublicKey:
		algo = x509.SHA256WithRSA
	default:
		return "", bad
	}
	if err := cert.CheckSignature(algo, ProofMessage(purpose, p.Branch, p.At, p.CSR), sig); err != nil {
		return "", bad
	}
	if err := h.Store.CertificateActive(ctx, branch, cert.Raw); err != nil {
		return "", err
	}
	return branch, nil
}

func (h *Handler) renew(w http.ResponseWriter, r *http.Request) {
	var p Proof
	if err := decode(w, r, &p); err != nil {
		h.problem(w, r, err)
		return
	}
	ctx := r.Context()
	branch, err := h.verify(ctx, p, "renew")
	if err != nil {
		h.problem(w, r, err)
		return
	}
	csr, err := ParseCSR(p.CSR, branch)
	if err != nil {
		h.problem(w, r, err)
		return
	}
	resp, err := h.issue(ctx, branch, csr, "branch:"+string(branch), h.Proxy.Of(r), false)
	if err != nil {
		h.problem(w, r, err)
		return
	}
	h.log().Info("certificate renewed", "branch", string(branch), "not_after", resp.NotAfter)
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	var p Proof
	if err := decode(w, r, &p); err != nil {
		h.problem(w, r, err)
		return
	}
	branch, err := h.verify(r.Context(), p, "resume")
	if err != nil {
		h.problem(w, r, err)
		return
	}
	st, err := h.Store.Resume(r.Context(), branch)
	if err != nil {
		h.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// CodeRequest is the body of POST /api/v1/branches/{id}/enroll-codes.
type CodeRequest struct {
	TTLSeconds int `json:"ttl_s"`
}

func (h *Handler) createCode(w http.ResponseWriter, r *http.Request) {
	if h.Authorize == nil {
		h.problem(w, r, queue.Errorf(queue.CodeUnauthorized, "enroll.admin_required"))
		return
	}
	actor, err := h.Authorize(r)
	if err != nil {
		h.problem(w, r, err)
		return
	}
	var req CodeRequest
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			h.problem(w, r, err)
			return
		}
	}
	ttl := 24 * time.Hour
	if req.TTLSeconds != 0 {
		ttl = time.Duration(req.TTLSeconds) * time.Second
	}
	code, err := h.Store.CreateCode(r.Context(), queue.BranchID(r.PathValue("id")), actor, ttl)
	if err != nil {
		h.problem(w, r, err)
		return
	}
	h.log().Info("enrolment code created", "branch", code.Branch, "actor", actor, "expires_at", code.ExpiresAt)
	writeJSON(w, http.StatusCreated, code)
}

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return queue.Errorf(queue.CodeInvalid, "enroll.body_too_large")
		}
		return queue.Errorf(queue.CodeInvalid, "enroll.request_invalid")
	}
	if _, err := dec.Token(); err != io.EOF {
		return queue.Errorf(queue.CodeInvalid, "enroll.request_invalid")
	}
	return nil
}

// problem answers with RFC 9457 problem+json; an internal error is logged here
// (once) and shown with the generic message.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, err error) {
	if code := queue.ErrorCode(err); code == queue.CodeInternal || code == queue.CodeUnavailable {
		h.log().Error("enroll request failed", "path", r.URL.Path, "err", err)
	}
	problem.Write(w, r, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Package enroll is the branch box's side of enrolment: it makes the box's
// private key locally (the key never leaves the box), sends a certificate
// signing request with the one-time code a technician got from HQ, and writes
// the certificate, the CA and the enrolment facts into the data directory with
// mode 0600. It also renews the certificate before it expires (proof of
// possession of the current key, no visit needed) and fetches the cloud's
// resume state for a replacement box.
//
// The wire format is cloud/enroll's API (POST /api/v1/enroll, /enroll/renew,
// /enroll/resume); the proof message is ProofMessage, byte for byte the same.
package enroll

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/enrollapi"
	"github.com/ticketero/ticketero/shared/queue"
)

// Paths are the enrolment files inside a data directory.
type Paths struct{ Dir string }

// TLSDir holds the key and certificates (0700).
func (p Paths) TLSDir() string { return filepath.Join(p.Dir, "tls") }

// Key is the box's private key (PKCS#8 PEM, 0600).
func (p Paths) Key() string { return filepath.Join(p.TLSDir(), "client-key.pem") }

// Cert is the box's client certificate (PEM, 0600).
func (p Paths) Cert() string { return filepath.Join(p.TLSDir(), "client.pem") }

// CA is the bundle trusted for the broker (PEM, 0600).
func (p Paths) CA() string { return filepath.Join(p.TLSDir(), "ca.pem") }

// State is enroll.json: the enrolment facts (0600).
func (p Paths) State() string { return filepath.Join(p.Dir, "enroll.json") }

// ConfigFile is the configuration snapshot received at enrolment (0600).
func (p Paths) ConfigFile() string { return filepath.Join(p.Dir, "config.json") }

// State is what enroll.json records.
type State struct {
	Branch     string    `json:"branch"`
	Cloud      string    `json:"cloud"`
	Broker     string    `json:"broker"`
	NotAfter   time.Time `json:"not_after"`
	EnrolledAt time.Time `json:"enrolled_at"`
	RenewedAt  time.Time `json:"renewed_at,omitzero"`
}

// LoadState reads enroll.json from dir. Errors: not_found enroll.not_enrolled.
func LoadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(Paths{dir}.State())
	if errors.Is(err, os.ErrNotExist) {
		return s, queue.Errorf(queue.CodeNotFound, "enroll.not_enrolled", Paths{dir}.State())
	}
	if err != nil {
		return s, fmt.Errorf("enroll: read state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("enroll: parse %s: %w", Paths{dir}.State(), err)
	}
	return s, nil
}

// Resume is the cloud's state of the branch (shared/enrollapi).
type Resume = enrollapi.ResumeState

// OpenTicket is a ticket open in the cloud's projection.
type OpenTicket = enrollapi.OpenTicket

// Result is what an enrolment or renewal brought.
type Result struct {
	State  State
	Config json.RawMessage
	Resume *Resume
}

type (
	response = enrollapi.Response
	proof    = enrollapi.Proof
)

// ProofMessage is the byte string a proof of possession signs (shared with the cloud).
func ProofMessage(purpose, branch string, at time.Time, csr string) []byte {
	return enrollapi.ProofMessage(purpose, branch, at, csr)
}

// Client talks to the cloud's enrolment API.
type Client struct {
	// Cloud is the HQ base URL, e.g. https://hq.ticketero.cl.
	Cloud string
	// HTTP is the client (a 30 s timeout client when nil).
	HTTP *http.Client
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Enroll makes a new key, sends its CSR with code and writes the files into
// dir. branch, when set, goes into the CSR's CN (the cloud enforces it
// anyway). Nothing is written when the cloud refuses.
func (c *Client) Enroll(ctx context.Context, dir, code, branch string) (Result, error) {
	key, csrPEM, err := newKeyAndCSR(branch)
	if err != nil {
		return Result{}, err
	}
	var resp response
	if err := c.post(ctx, "/api/v1/enroll", map[string]string{"code": code, "csr": csrPEM}, &resp); err != nil {
		return Result{}, err
	}
	cert, err := checkIssued(resp, key)
	if err != nil {
		return Result{}, err
	}
	st := State{Branch: resp.Branch, Cloud: c.Cloud, Broker: resp.Broker, NotAfter: cert.NotAfter.UTC(), EnrolledAt: c.now().UTC()}
	if err := writeFiles(dir, key, resp, st); err != nil {
		return Result{}, err
	}
	return Result{State: st, Config: resp.Config, Resume: resp.Resume}, nil
}

// Renew replaces the certificate (and key) in dir when it expires within
// before; it returns false when renewal is not due yet. The request is signed
// with the current key, so no code is needed.
func (c *Client) Renew(ctx context.Context, dir string, before time.Duration) (bool, State, error) {
	st, err := LoadState(dir)
	if err != nil {
		return false, st, err
	}
	oldKey, oldCert, certPEM, err := loadPair(dir)
	if err != nil {
		return false, st, err
	}
	if oldCert.NotAfter.Sub(c.now()) > before {
		st.NotAfter = oldCert.NotAfter.UTC()
		return false, st, nil
	}
	key, csrPEM, err := newKeyAndCSR(st.Branch)
	if err != nil {
		return false, st, err
	}
	p, err := c.sign(oldKey, "renew", st.Branch, certPEM, csrPEM)
	if err != nil {
		return false, st, err
	}
	var resp response
	if err := c.post(ctx, "/api/v1/enroll/renew", p, &resp); err != nil {
		return false, st, err
	}
	cert, err := checkIssued(resp, key)
	if err != nil {
		return false, st, err
	}
	st.Broker = resp.Broker
	st.NotAfter = cert.NotAfter.UTC()
	st.RenewedAt = c.now().UTC()
	if err := writeFiles(dir, key, resp, st); err != nil {
		return false, st, err
	}
	return true, st, nil
}

// Resume fetches the cloud's state of this box's branch (for a box restored
// from a backup). The request is signed with the box's key.
func (c *Client) Resume(ctx context.Context, dir string) (Resume, error) {
	st, err := LoadState(dir)
	if err != nil {
		return Resume{}, err
	}
	key, _, certPEM, err := loadPair(dir)
	if err != nil {
		return Resume{}, err
	}
	p, err := c.sign(key, "resume", st.Branch, certPEM, "")
	if err != nil {
		return Resume{}, err
	}
	var r Resume
	if err := c.post(ctx, "/api/v1/enroll/resume", p, &r); err != nil {
		return Resume{}, err
	}
	return r, nil
}

func (c *Client) sign(key crypto.Signer, purpose, branch, certPEM, csrPEM string) (proof, error) {
	at := c.now().UTC().Truncate(time.Second)
	digest := sha256.Sum256(ProofMessage(purpose, branch, at, csrPEM))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return proof{}, fmt.Errorf("enroll: sign proof: %w", err)
	}
	return proof{Branch: branch, Certificate: certPEM, At: at, CSR: csrPEM, Signature: base64.StdEncoding.EncodeToString(sig)}, nil
}

// CloudError is a refusal from the cloud: its HTTP status and problem code.
type CloudError struct {
	Status int
	Code   string
	Title  string
}

func (e *CloudError) Error() string {
	return fmt.Sprintf("enroll: cloud answered %d %s: %s", e.Status, e.Code, e.Title)
}

func (c *Client) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Cloud, "/")+path, bytes.NewReader(b))
	if err != nil {
		return queue.Errorf(queue.CodeInvalid, "ops.flag_invalid", "--cloud", c.Cloud)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", "es-CL")
	res, err := c.http().Do(req)
	if err != nil {
		return queue.Errorf(queue.CodeUnavailable, "enroll.unreachable", c.Cloud, err.Error())
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return queue.Errorf(queue.CodeUnavailable, "enroll.unreachable", c.Cloud, err.Error())
	}
	if res.StatusCode/100 != 2 {
		var p struct {
			Code  string `json:"code"`
			Title string `json:"title"`
		}
		_ = json.Unmarshal(data, &p)
		if p.Title == "" {
			p.Title = strings.TrimSpace(string(data))
		}
		return &CloudError{Status: res.StatusCode, Code: p.Code, Title: p.Title}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("enroll: decode %s response: %w", path, err)
	}
	return nil
}

func newKeyAndCSR(branch string) (*ecdsa.PrivateKey, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("enroll: key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: branch}}, key)
	if err != nil {
		return nil, "", fmt.Errorf("enroll: csr: %w", err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

// checkIssued verifies the certificate the cloud returned carries our public
// key and names the branch. (Its chain is not checked here: AWS IoT device
// certificates are signed by an AWS CA other than the broker's root.)
func checkIssued(resp response, key *ecdsa.PrivateKey) (*x509.Certificate, error) {
	if _, err := queue.ParseBranchID(resp.Branch); err != nil {
		return nil, fmt.Errorf("enroll: cloud returned branch %q", resp.Branch)
	}
	block, _ := pem.Decode([]byte(resp.Certificate))
	if block == nil {
		return nil, errors.New("enroll: cloud returned no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("enroll: certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("enroll: the certificate is not for this box's key")
	}
	if cn := cert.Subject.CommonName; cn != "" && cn != resp.Branch {
		return nil, fmt.Errorf("enroll: certificate CN %q is not branch %q", cn, resp.Branch)
	}
	return cert, nil
}

func writeFiles(dir string, key *ecdsa.PrivateKey, resp response, st State) error {
	p := Paths{dir}
	if err := os.MkdirAll(p.TLSDir(), 0o700); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := os.Chmod(p.TLSDir(), 0o700); err != nil { // #nosec G302 -- a directory: 0700 is owner-only
		return fmt.Errorf("enroll: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("enroll: key: %w", err)
	}
	state, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	// The key and certificate change as a pair: both are written as .new
	// files first, then renamed key first, certificate second. Recover
	// finishes the pair after a power cut between the two renames.
	if err := WriteFile0600(p.Key()+".new", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})); err != nil {
		return err
	}
	if err := WriteFile0600(p.Cert()+".new", []byte(resp.Certificate)); err != nil {
		return err
	}
	if err := WriteFile0600(p.CA(), []byte(resp.CA)); err != nil {
		return err
	}
	if err := os.Rename(p.Key()+".new", p.Key()); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := os.Rename(p.Cert()+".new", p.Cert()); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	syncDir(p.TLSDir())
	if len(resp.Config) > 0 && string(resp.Config) != "null" {
		if err := WriteFile0600(p.ConfigFile(), resp.Config); err != nil {
			return err
		}
	}
	return WriteFile0600(p.State(), state)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil { // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
		_ = d.Sync()
		d.Close()
	}
}

// Recover completes a key and certificate change interrupted between its two
// renames (the key is new, the certificate still old and client.pem.new
// waiting): it is called before the pair is loaded.
func Recover(dir string) error {
	p := Paths{dir}
	newCert := p.Cert() + ".new"
	if _, err := os.Stat(newCert); err != nil {
		return nil
	}
	if _, err := tls.LoadX509KeyPair(p.Cert(), p.Key()); err == nil {
		// The pair on disk matches: the change never started its renames.
		_ = os.Remove(newCert)
		_ = os.Remove(p.Key() + ".new")
		return nil
	}
	if _, err := tls.LoadX509KeyPair(newCert, p.Key()); err != nil {
		return fmt.Errorf("enroll: recover %s: %w", p.TLSDir(), err)
	}
	if err := os.Rename(newCert, p.Cert()); err != nil {
		return fmt.Errorf("enroll: recover: %w", err)
	}
	syncDir(p.TLSDir())
	return nil
}

// WriteFile0600 writes data to path atomically (temp file, fsync, rename) with
// mode 0600.
func WriteFile0600(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("enroll: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("enroll: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("enroll: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("enroll: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("enroll: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("enroll: write %s: %w", path, err)
	}
	return nil
}

func loadPair(dir string) (crypto.Signer, *x509.Certificate, string, error) {
	p := Paths{dir}
	if err := Recover(dir); err != nil {
		return nil, nil, "", err
	}
	pair, err := tls.LoadX509KeyPair(p.Cert(), p.Key())
	if err != nil {
		return nil, nil, "", fmt.Errorf("enroll: load certificate and key: %w", err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, "", errors.New("enroll: key cannot sign")
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, "", fmt.Errorf("enroll: certificate: %w", err)
	}
	certPEM, err := os.ReadFile(p.Cert())
	if err != nil {
		return nil, nil, "", err
	}
	return signer, cert, string(certPEM), nil
}

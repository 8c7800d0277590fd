// Package enrollapi is the HTTP contract of field enrolment between a branch box
// (agent/enroll) and the cloud (cloud/enroll): request and response bodies, the
// proof of possession of a certificate's key, and the branch's resume state for
// a replacement box. Field names cross the wire: add, never rename.
package enrollapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/ticketero/ticketero/shared/event"
)

// Request is the body of POST /api/v1/enroll: a one-time code and a CSR made on
// the box (CN = branch ID); the private key never leaves the box.
type Request struct {
	Code string `json:"code"`
	CSR  string `json:"csr"`
}

// Response is what a box receives: its certificate and CA (PEM), the broker
// endpoint, the current configuration snapshot (event.Config JSON or null) and
// the branch's resume state (for a replacement box).
type Response struct {
	Branch      string          `json:"branch"`
	Certificate string          `json:"certificate"`
	CA          string          `json:"ca"`
	Broker      string          `json:"broker"`
	NotAfter    time.Time       `json:"not_after"`
	Config      json.RawMessage `json:"config"`
	Resume      *ResumeState    `json:"resume,omitempty"`
}

// Proof shows possession of the key of an active certificate of Branch:
// Signature (base64) is the certificate key's signature (ECDSA or RSA
// PKCS#1 v1.5, SHA-256) over ProofMessage(purpose, branch, at, csr).
type Proof struct {
	Branch      string    `json:"branch"`
	Certificate string    `json:"certificate"`
	At          time.Time `json:"at"`
	CSR         string    `json:"csr,omitempty"`
	Signature   string    `json:"signature"`
}

// ProofMessage is the byte string a Proof signs.
func ProofMessage(purpose, branch string, at time.Time, csr string) []byte {
	sum := sha256.Sum256([]byte(csr))
	return []byte("ticketero-enroll-proof/v1\n" + purpose + "\n" + branch + "\n" + at.UTC().Format(time.RFC3339) + "\n" + hex.EncodeToString(sum[:]))
}

// ResumeState is the cloud's state of a branch for a replacement box: the seq
// the cloud has stored (a new box must continue after MaxSeq, never reuse one),
// today's highest number per service (numbering resumes after it) and the
// tickets still open (re-created on the box without new events), with
// today's bookings not yet checked in (additive: the box holds them as if
// their appointment.book had arrived, so the kiosk checks their customers in).
type ResumeState struct {
	Branch     string         `json:"branch"`
	Day        string         `json:"day"`
	TimeZone   string         `json:"time_zone"`
	AppliedSeq uint64         `json:"applied_seq"`
	MaxSeq     uint64         `json:"max_seq"`
	Numbers    map[string]int `json:"numbers"`
	Open       []OpenTicket   `json:"open"`
	At         time.Time      `json:"at"`
	// Bookings are today's active bookings (booked or received, not yet
	// checked in) as the branch's orders, RUTCheck included.
	Bookings []event.AppointmentOrder `json:"bookings,omitempty"`
}

// OpenTicket is a ticket still waiting, called or being served at the cloud's
// last applied event. No personal data: the RUT never reaches the cloud.
type OpenTicket struct {
	ID            string    `json:"id"`
	OriginService string    `json:"origin_service"`
	Number        int       `json:"number"`
	Service       string    `json:"service"`
	Priority      string    `json:"priority"`
	Status        string    `json:"status"`
	Counter       int       `json:"counter,omitempty"`
	Executive     string    `json:"executive,omitempty"`
	Token         string    `json:"token,omitempty"`
	Channel       string    `json:"channel,omitempty"`
	QueuedAt      time.Time `json:"queued_at"`
	CreatedAt     time.Time `json:"created_at"`
	CalledAt      time.Time `json:"called_at,omitzero"`
	// Appointment is the booking a checked-in appointment's ticket serves and
	// Due its slot's start when the customer came on time (the calling rule's
	// due time; zero when late or transferred). Additive.
	Appointment string    `json:"appointment,omitempty"`
	Due         time.Time `json:"due,omitzero"`
	// Join is the ticket.join command a remote ticket answers. Present is
	// false while its customer has not checked in (the branch never calls
	// it); absent (older clouds) means present. HoldUntil and Slides: it
	// reached the front unchecked and slid back. Code and RUTCheck check it
	// in at the kiosk. Additive.
	Join      string    `json:"join,omitempty"`
	Present   *bool     `json:"present,omitempty"`
	HoldUntil time.Time `json:"hold_until,omitzero"`
	Slides    int       `json:"slides,omitempty"`
	Code      string    `json:"code,omitempty"`
	RUTCheck  string    `json:"rut_check,omitempty"`
}

// Unchecked reports whether o is a remote ticket whose customer has not
// checked in.
func (o OpenTicket) Unchecked() bool { return o.Present != nil && !*o.Present }

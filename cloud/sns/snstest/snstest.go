// Package snstest is a local fake of the Amazon SNS API (query protocol) for
// SMS tests, on httptest. Like the real service it checks every request's
// shape (form-encoded Action and Version, an E.164 PhoneNumber, a non-empty
// Message, the SMS attributes' data types) and its Signature Version 4
// (Authorization AWS4-HMAC-SHA256 with the known test credentials, scope
// date/region/sns/aws4_request, X-Amz-Date within 5 minutes, the signature
// recomputed over the signed headers and the body), refuses over a rate limit
// with the Throttling error SNS answers, fails a configurable fraction of
// calls with InternalError 500, and keeps an opted-out list for
// CheckIfPhoneNumberIsOptedOut (a publish to an opted-out number succeeds and
// delivers nothing, as SNS does).
package snstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Test credentials the fake accepts (give them to the SDK as static ones).
const (
	AccessKey = "AKIDTICKETEROTEST"
	SecretKey = "ticketero-test-secret-key/not-a-real-one" // #nosec G101 -- the local fake's own test credential
	Region    = "sa-east-1"
)

// SMS is one accepted Publish to a phone number.
type SMS struct {
	Phone     string
	Message   string
	SenderID  string
	SMSType   string
	MessageID string
	At        time.Time
	// Suppressed: the number had opted out; SNS accepted and delivered nothing.
	Suppressed bool
}

// Options tune the fake.
type Options struct {
	// Rate is the most Publish calls accepted in any 1 s window (20, SNS's
	// default SMS rate for transactional messages in many regions).
	Rate int
	// FailRate is the fraction of calls answered InternalError 500 (0).
	FailRate float64
	// Seed makes the failures reproducible.
	Seed uint64
}

// Stats counts what the fake answered.
type Stats struct {
	Requests  int
	Throttled int // Throttling answered
	Failed    int // InternalError answered
	BadSig    int // signature or credential refused
	BadShape  int // request shape refused
	Published int
}

// Server is the fake SNS.
type Server struct {
	*httptest.Server
	opt Options

	mu       sync.Mutex
	rnd      *rand.Rand
	window   []time.Time
	sent     []SMS
	optedOut map[string]bool
	stats    Stats
	next     int
	// Now is the clock checked against X-Amz-Date.
	Now func() time.Time
}

// New starts a fake; Close it.
func New(opt Options) *Server {
	if opt.Rate == 0 {
		opt.Rate = 20
	}
	s := &Server{opt: opt, rnd: rand.New(rand.NewPCG(opt.Seed, 11)), optedOut: map[string]bool{}, Now: time.Now} // #nosec G404 -- the fake's reproducible failures, not a secret
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetFailRate changes the fraction of failed calls.
func (s *Server) SetFailRate(f float64) { s.mu.Lock(); s.opt.FailRate = f; s.mu.Unlock() }

// OptOut marks a number opted out (the customer replied STOP).
func (s *Server) OptOut(phone string) { s.mu.Lock(); s.optedOut[phone] = true; s.mu.Unlock() }

// Sent returns every accepted SMS.
func (s *Server) Sent() []SMS { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.sent) }

// SentTo returns the texts delivered (not suppressed) to phone.
func (s *Server) SentTo(phone string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.sent {
		if m.Phone == phone && !m.Suppressed {
			out = append(out, m.Message)
		}
	}
	return out
}

// Stats returns the counters.
func (s *Server) Stats() Stats { s.mu.Lock(); defer s.mu.Unlock(); return s.stats }

type xmlError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ReqID   string   `xml:"RequestId"`
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	_ = xml.NewEncoder(w).Encode(xmlError{Type: typ, Code: code, Message: msg, ReqID: "fake-" + code})
}

var e164 = regexp.MustCompile(`^\+[1-9]\d{7,14}$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.count(func(st *Stats) { st.BadShape++ })
		fail(w, http.StatusBadRequest, "MalformedQueryString", "POST / with a form-encoded body expected")
		return
	}
	if code, msg := s.verify(r, body); code != "" {
		s.count(func(st *Stats) { st.BadSig++ })
		fail(w, http.StatusForbidden, code, msg)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Version") != "2010-03-31" {
		s.count(func(st *Stats) { st.BadShape++ })
		fail(w, http.StatusBadRequest, "InvalidParameter", "Version 2010-03-31 expected")
		return
	}
	switch form.Get("Action") {
	case "Publish":
		s.publish(w, form)
	case "CheckIfPhoneNumberIsOptedOut":
		phone := form.Get("phoneNumber")
		if !e164.MatchString(phone) {
			s.count(func(st *Stats) { st.BadShape++ })
			fail(w, http.StatusBadRequest, "InvalidParameter", "Invalid parameter: phoneNumber")
			return
		}
		s.mu.Lock()
		out := s.optedOut[phone]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<CheckIfPhoneNumberIsOptedOutResponse><CheckIfPhoneNumberIsOptedOutResult><isOptedOut>%t</isOptedOut></CheckIfPhoneNumberIsOptedOutResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></CheckIfPhoneNumberIsOptedOutResponse>`, out)
	default:
		s.count(func(st *Stats) { st.BadShape++ })
		fail(w, http.StatusBadRequest, "InvalidAction", "unknown action")
	}
}

func (s *Server) count(f func(*Stats)) { s.mu.Lock(); f(&s.stats); s.mu.Unlock() }

func (s *Server) publish(w http.ResponseWriter, form url.Values) {
	phone, msg := form.Get("PhoneNumber"), form.Get("Message")
	if !e164.MatchString(phone) || msg == "" || form.Get("TopicArn") != "" || form.Get("TargetArn") != "" {
		s.count(func(st *Stats) { st.BadShape++ })
		fail(w, http.StatusBadRequest, "InvalidParameter", "Invalid parameter: PhoneNumber or Message")
		return
	}
	attrs := map[string]string{}
	for i := 1; ; i++ {
		p := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := form.Get(p + "Name")
		if name == "" {
			break
		}
		if form.Get(p+"Value.DataType") != "String" {
			s.count(func(st *Stats) { st.BadShape++ })
			fail(w, http.StatusBadRequest, "ParameterValueInvalid", "The message attribute '"+name+"' must have a String data type")
			return
		}
		attrs[name] = form.Get(p + "Value.StringValue")
	}
	if t := attrs["AWS.SNS.SMS.SMSType"]; t != "" && t != "Transactional" && t != "Promotional" {
		s.count(func(st *Stats) { st.BadShape++ })
		fail(w, http.StatusBadRequest, "ParameterValueInvalid", "AWS.SNS.SMS.SMSType must be Transactional or Promotional")
		return
	}
	s.mu.Lock()
	now := time.Now()
	if s.opt.FailRate > 0 && s.rnd.Float64() < s.opt.FailRate {
		s.stats.Failed++
		s.mu.Unlock()
		fail(w, http.StatusInternalServerError, "InternalError", "Internal Error")
		return
	}
	cut := 0
	for cut < len(s.window) && now.Sub(s.window[cut]) >= time.Second {
		cut++
	}
	s.window = s.window[cut:]
	if len(s.window) >= s.opt.Rate {
		s.stats.Throttled++
		s.mu.Unlock()
		fail(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
		return
	}
	s.window = append(s.window, now)
	s.next++
	m := SMS{Phone: phone, Message: msg, SenderID: attrs["AWS.SNS.SMS.SenderID"], SMSType: attrs["AWS.SNS.SMS.SMSType"],
		MessageID: fmt.Sprintf("fake-%08d", s.next), At: now, Suppressed: s.optedOut[phone]}
	s.sent = append(s.sent, m)
	s.stats.Published++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<PublishResponse><PublishResult><MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></PublishResponse>`, m.MessageID)
}

// verify checks the SigV4 signature as SNS does; it returns the error code
// and message of a refusal, or "" when the request is signed right.
func (s *Server) verify(r *http.Request, body []byte) (string, string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	cred := strings.Split(parts["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" || cred[3] != "sns" {
		return "IncompleteSignature", "malformed Credential"
	}
	if cred[2] != Region {
		return "SignatureDoesNotMatch", "Credential should be scoped to a valid region"
	}
	if cred[0] != AccessKey {
		return "InvalidClientTokenId", "The security token included in the request is invalid."
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || cred[1] != amzDate[:8] {
		return "IncompleteSignature", "X-Amz-Date missing or not the credential's date"
	}
	if d := s.Now().Sub(at); d > 5*time.Minute || d < -5*time.Minute {
		return "SignatureDoesNotMatch", "Signature expired"
	}
	signed := strings.Split(parts["SignedHeaders"], ";")
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-amz-date") {
		return "IncompleteSignature", "host and x-amz-date must be signed"
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return "SignatureDoesNotMatch", "payload hash mismatch"
	}
	var ch strings.Builder
	sort.Strings(signed)
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = fmt.Sprint(r.ContentLength)
		default:
			v = strings.Join(r.Header.Values(http.CanonicalHeaderKey(h)), ",")
		}
		ch.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	canonical := strings.Join([]string{r.Method, "/", r.URL.RawQuery, ch.String(), strings.Join(signed, ";"), payloadHash}, "\n")
	crSum := sha256.Sum256([]byte(canonical))
	scope := strings.Join(cred[1:], "/")
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	key := []byte("AWS4" + SecretKey)
	for _, p := range cred[1:] {
		key = hmacSHA256(key, p)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(parts["Signature"])) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	return "", ""
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

package enroll_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/enroll"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/queue"
)

// fakeIoT is an httptest stand-in for the AWS IoT control plane (AWS cannot
// be reached from here): it checks each request's method, path, query,
// headers, JSON body and SigV4 signature scope the way the real API expects
// them, and signs the CSR with its own CA like CreateCertificateFromCsr.
type fakeIoT struct {
	t           *testing.T
	mu          sync.Mutex
	calls       []string
	thingExists bool
	denyPolicy  bool
	caCert      *x509.Certificate
	caKey       any
}

func (f *fakeIoT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	auth := r.Header.Get("Authorization")
	if !assert.Contains(f.t, auth, "AWS4-HMAC-SHA256") || !assert.Contains(f.t, auth, "/us-east-1/iot/aws4_request") {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if len(body) > 0 {
		require.NoError(f.t, json.Unmarshal(body, &in), string(body))
	}
	awsErr := func(status int, typ string) {
		w.Header().Set("X-Amzn-ErrorType", typ)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"message":"` + typ + `"}`))
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/things/SCL-001":
		f.calls = append(f.calls, "CreateThing")
		assert.Equal(f.t, "ticketero-branch", in["thingTypeName"])
		if f.thingExists {
			awsErr(http.StatusConflict, "ResourceAlreadyExistsException")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"thingName": "SCL-001", "thingArn": "arn:aws:iot:us-east-1:123:thing/SCL-001"})
	case r.Method == http.MethodPost && r.URL.Path == "/certificates":
		f.calls = append(f.calls, "CreateCertificateFromCsr")
		assert.Equal(f.t, "true", r.URL.Query().Get("setAsActive"))
		block, _ := pem.Decode([]byte(in["certificateSigningRequest"].(string)))
		require.NotNil(f.t, block)
		csr, err := x509.ParseCertificateRequest(block.Bytes)
		require.NoError(f.t, err)
		serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
		tpl := &x509.Certificate{SerialNumber: serial, Subject: csr.Subject,
			NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(365 * 24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tpl, f.caCert, csr.PublicKey, f.caKey)
		require.NoError(f.t, err)
		id := cloud.CertificateFingerprint(der)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"certificateArn": "arn:aws:iot:us-east-1:123:cert/" + id, "certificateId": id,
			"certificatePem": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		})
	case r.Method == http.MethodPut && r.URL.Path == "/target-policies/ticketero-branch-policy":
		f.calls = append(f.calls, "AttachPolicy")
		assert.True(f.t, strings.HasPrefix(in["target"].(string), "arn:aws:iot:us-east-1:123:cert/"))
		if f.denyPolicy {
			awsErr(http.StatusForbidden, "UnauthorizedException")
			return
		}
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut && r.URL.Path == "/things/SCL-001/principals":
		f.calls = append(f.calls, "AttachThingPrincipal")
		assert.True(f.t, strings.HasPrefix(r.Header.Get("X-Amzn-Principal"), "arn:aws:iot:us-east-1:123:cert/"))
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/certificates/"):
		assert.Equal(f.t, "INACTIVE", r.URL.Query().Get("newStatus"))
		f.calls = append(f.calls, "UpdateCertificate:"+strings.TrimPrefix(r.URL.Path, "/certificates/"))
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && r.URL.Path == "/endpoint":
		f.calls = append(f.calls, "DescribeEndpoint")
		assert.Equal(f.t, "iot:Data-ATS", r.URL.Query().Get("endpointType"))
		_ = json.NewEncoder(w).Encode(map[string]string{"endpointAddress": "abc123-ats.iot.us-east-1.amazonaws.com"})
	default:
		f.t.Errorf("unexpected AWS IoT call %s %s", r.Method, r.URL)
		awsErr(http.StatusBadRequest, "InvalidRequestException")
	}
}

func newIoT(t *testing.T, f *fakeIoT) *enroll.IoT {
	t.Helper()
	certPEM, keyPEM := testCA(t)
	ca, err := enroll.NewLocalCA(certPEM, keyPEM, "")
	require.NoError(t, err)
	f.t, f.caCert, f.caKey = t, ca.Cert, ca.Key
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := iot.New(iot.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		}),
		RetryMaxAttempts: 1,
	})
	return &enroll.IoT{API: client, PolicyName: "ticketero-branch-policy", ThingType: "ticketero-branch", CAPEM: "AMAZON-ROOT-CA-1"}
}

func parsedCSR(t *testing.T, cn string) *x509.CertificateRequest {
	t.Helper()
	csr, err := enroll.ParseCSR(csrPEM(t, cn), queue.BranchID(cn))
	require.NoError(t, err)
	return csr
}

func TestIoTProvisioner(t *testing.T) {
	ctx := context.Background()
	t.Run("new thing", func(t *testing.T) {
		f := &fakeIoT{}
		p := newIoT(t, f)
		cred, err := p.Provision(ctx, "SCL-001", parsedCSR(t, "SCL-001"))
		require.NoError(t, err)
		assert.Equal(t, []string{"CreateThing", "CreateCertificateFromCsr", "AttachPolicy", "AttachThingPrincipal", "DescribeEndpoint"}, f.calls)
		assert.Equal(t, "mqtts://abc123-ats.iot.us-east-1.amazonaws.com:8883", cred.Broker)
		assert.Equal(t, "AMAZON-ROOT-CA-1", cred.CAPEM)
		block, _ := pem.Decode([]byte(cred.CertificatePEM))
		require.NotNil(t, block)
		assert.Equal(t, cloud.CertificateFingerprint(block.Bytes), cred.ExternalID, "the certificate ID is the DER's SHA-256")
		assert.Equal(t, "aws-iot", p.Name())
	})
	t.Run("replacement box reuses the thing", func(t *testing.T) {
		f := &fakeIoT{thingExists: true}
		p := newIoT(t, f)
		p.Endpoint, p.Port = "abc123-ats.iot.us-east-1.amazonaws.com", 443
		cred, err := p.Provision(ctx, "SCL-001", parsedCSR(t, "SCL-001"))
		require.NoError(t, err)
		assert.Equal(t, []string{"CreateThing", "CreateCertificateFromCsr", "AttachPolicy", "AttachThingPrincipal"}, f.calls)
		assert.Equal(t, "mqtts://abc123-ats.iot.us-east-1.amazonaws.com:443", cred.Broker)
	})
	t.Run("a new box deactivates the old certificate", func(t *testing.T) {
		f := &fakeIoT{thingExists: true}
		p := newIoT(t, f)
		p.Endpoint = "abc123-ats.iot.us-east-1.amazonaws.com"
		addBranch(t, "SCL-001")
		store := &postgres.EnrollStore{Pool: db(t)}
		srv := httptest.NewServer(&enroll.Handler{Store: store, Provisioner: p})
		defer srv.Close()
		var ids []string
		for i := 0; i < 2; i++ {
			c, err := store.CreateCode(ctx, "SCL-001", "admin@hq", time.Hour)
			require.NoError(t, err)
			st, body := postJSON(t, srv.URL+"/api/v1/enroll", `{"code":"`+c.Code+`","csr":`+jsonString(csrPEM(t, "SCL-001"))+`}`)
			require.Equal(t, http.StatusCreated, st, body)
			block, _ := pem.Decode([]byte(body["certificate"].(string)))
			ids = append(ids, cloud.CertificateFingerprint(block.Bytes))
		}
		assert.Contains(t, f.calls, "UpdateCertificate:"+ids[0], "the first box's certificate is switched off")
		assert.NotContains(t, f.calls, "UpdateCertificate:"+ids[1])
	})
	t.Run("denied", func(t *testing.T) {
		f := &fakeIoT{denyPolicy: true}
		p := newIoT(t, f)
		_, err := p.Provision(ctx, "SCL-001", parsedCSR(t, "SCL-001"))
		require.Error(t, err)
		assert.Equal(t, queue.CodeUnavailable, queue.ErrorCode(err))
		assert.Equal(t, "enroll.provisioner", queue.ErrorReason(err))
		assert.Equal(t, []string{"CreateThing", "CreateCertificateFromCsr", "AttachPolicy"}, f.calls, "stops at the failure")
	})
}

package enroll

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/ticketero/ticketero/shared/queue"
)

// IoTAPI is the part of the AWS IoT control plane the provisioner uses
// (*iot.Client implements it).
type IoTAPI interface {
	CreateThing(ctx context.Context, in *iot.CreateThingInput, opts ...func(*iot.Options)) (*iot.CreateThingOutput, error)
	CreateCertificateFromCsr(ctx context.Context, in *iot.CreateCertificateFromCsrInput, opts ...func(*iot.Options)) (*iot.CreateCertificateFromCsrOutput, error)
	AttachPolicy(ctx context.Context, in *iot.AttachPolicyInput, opts ...func(*iot.Options)) (*iot.AttachPolicyOutput, error)
	AttachThingPrincipal(ctx context.Context, in *iot.AttachThingPrincipalInput, opts ...func(*iot.Options)) (*iot.AttachThingPrincipalOutput, error)
	DescribeEndpoint(ctx context.Context, in *iot.DescribeEndpointInput, opts ...func(*iot.Options)) (*iot.DescribeEndpointOutput, error)
	UpdateCertificate(ctx context.Context, in *iot.UpdateCertificateInput, opts ...func(*iot.Options)) (*iot.UpdateCertificateOutput, error)
}

var _ IoTAPI = (*iot.Client)(nil)

// IoT provisions branches in AWS IoT Core: the thing (name = branch, of
// ThingType when set), a certificate AWS signs from the box's CSR (set
// active), the per-thing policy attached to the certificate and the
// certificate attached to the thing. The policy (deploy/iot) uses
// ${iot:Connection.Thing.ThingName}, so a branch reaches only its topics.
type IoT struct {
	API        IoTAPI
	PolicyName string
	ThingType  string
	// CAPEM is the bundle the box trusts for the broker (Amazon Root CA 1).
	CAPEM string
	// Endpoint is the ATS data endpoint host; asked with DescribeEndpoint when empty.
	Endpoint string
	// Port is 8883 (default) or 443 (ALPN x-amzn-mqtt-ca).
	Port int
}

var (
	_ Provisioner = (*IoT)(nil)
	_ Deactivator = (*IoT)(nil)
)

// Deactivate implements Deactivator: the certificate becomes INACTIVE, so AWS
// IoT refuses its connections (a replaced or renewed box's old certificate).
func (p *IoT) Deactivate(ctx context.Context, certificateID string) error {
	if certificateID == "" {
		return nil
	}
	_, err := p.API.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: aws.String(certificateID),
		NewStatus: types.CertificateStatusInactive})
	if err != nil {
		return unavailable("UpdateCertificate", err)
	}
	return nil
}

// Name implements Provisioner.
func (p *IoT) Name() string { return "aws-iot" }

// Provision implements Provisioner. CreateThing is idempotent for an existing
// thing with the same attributes (a replacement box reuses its branch's thing).
func (p *IoT) Provision(ctx context.Context, branch queue.BranchID, csr *x509.CertificateRequest) (Credentials, error) {
	name := string(branch)
	in := &iot.CreateThingInput{ThingName: aws.String(name)}
	if p.ThingType != "" {
		in.ThingTypeName = aws.String(p.ThingType)
	}
	if _, err := p.API.CreateThing(ctx, in); err != nil {
		var exists *types.ResourceAlreadyExistsException
		if !errors.As(err, &exists) {
			return Credentials{}, unavailable("CreateThing", err)
		}
	}
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.Raw})
	cert, err := p.API.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{
		CertificateSigningRequest: aws.String(string(csrPEM)),
		SetAsActive:               true,
	})
	if err != nil {
		return Credentials{}, unavailable("CreateCertificateFromCsr", err)
	}
	arn := aws.ToString(cert.CertificateArn)
	if _, err := p.API.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(p.PolicyName), Target: aws.String(arn)}); err != nil {
		return Credentials{}, unavailable("AttachPolicy", err)
	}
	if _, err := p.API.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String(name), Principal: aws.String(arn)}); err != nil {
		return Credentials{}, unavailable("AttachThingPrincipal", err)
	}
	host := p.Endpoint
	if host == "" {
		out, err := p.API.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})
		if err != nil {
			return Credentials{}, unavailable("DescribeEndpoint", err)
		}
		host = aws.ToString(out.EndpointAddress)
	}
	port := p.Port
	if port == 0 {
		port = 8883
	}
	return Credentials{
		CertificatePEM: aws.ToString(cert.CertificatePem),
		CAPEM:          p.CAPEM,
		Broker:         fmt.Sprintf("mqtts://%s:%d", host, port),
		ExternalID:     aws.ToString(cert.CertificateId),
	}, nil
}

func unavailable(op string, err error) error {
	return fmt.Errorf("enroll: aws iot %s: %w", op, queue.Errorf(queue.CodeUnavailable, "enroll.provisioner", op+": "+err.Error()))
}

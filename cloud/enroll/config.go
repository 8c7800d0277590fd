package enroll

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/ticketero/ticketero/cloud"
)

// Config chooses and configures the provisioner. ticketero-cloud reads it
// from TICKETERO_ENROLL_* and TICKETERO_IOT_* env (its cmd, ParseEnrollEnv);
// Validate's errors name those variables.
type Config struct {
	// Provisioner is "local-ca", "aws-iot" or "" (enrolment disabled).
	Provisioner string
	// Local CA: certificate and key files, the broker URL returned to boxes,
	// and the validity of issued certificates (90 days when zero).
	CACert, CAKey, Broker string
	Validity              time.Duration
	// AWS IoT: the per-thing policy's name, the thing type (optional), the CA
	// bundle file returned to boxes (Amazon Root CA 1), the ATS endpoint
	// (asked with DescribeEndpoint when empty) and the port (8883 or 443).
	IoTPolicy, IoTThingType, IoTCAFile, IoTEndpoint string
	IoTPort                                         int
}

// Validate checks the configuration, naming the field and the bad value.
func (c Config) Validate() error {
	switch c.Provisioner {
	case "":
		return nil
	case "local-ca":
		if c.CACert == "" || c.CAKey == "" {
			return fmt.Errorf("TICKETERO_ENROLL_CA_CERT and TICKETERO_ENROLL_CA_KEY are required with the local-ca provisioner")
		}
		u, err := url.Parse(c.Broker)
		if err != nil || (u.Scheme != "mqtts" && u.Scheme != "ssl") || u.Host == "" {
			return fmt.Errorf("TICKETERO_ENROLL_BROKER: %q must be mqtts://host:port", c.Broker)
		}
		if c.Validity < 0 || c.Validity > 825*24*time.Hour {
			return fmt.Errorf("TICKETERO_ENROLL_VALIDITY: %s must be up to 825 days", c.Validity)
		}
	case "aws-iot":
		if c.IoTPolicy == "" {
			return fmt.Errorf("TICKETERO_IOT_POLICY is required with the aws-iot provisioner")
		}
		if c.IoTCAFile == "" {
			return fmt.Errorf("TICKETERO_IOT_CA_FILE (Amazon Root CA 1) is required with the aws-iot provisioner")
		}
		if c.IoTPort != 0 && c.IoTPort != 8883 && c.IoTPort != 443 {
			return fmt.Errorf("TICKETERO_IOT_PORT: %d must be 8883 or 443", c.IoTPort)
		}
	default:
		return fmt.Errorf("TICKETERO_ENROLL_PROVISIONER: %q must be local-ca or aws-iot", c.Provisioner)
	}
	return nil
}

// New builds the enrolment handler from c (nil, nil when enrolment is
// disabled). authorize decides who may create codes (HQ admins).
func New(ctx context.Context, c Config, store cloud.EnrollStore, log *slog.Logger, authorize func(*http.Request) (string, error)) (*Handler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var p Provisioner
	switch c.Provisioner {
	case "":
		return nil, nil
	case "local-ca":
		ca, err := LoadLocalCA(c.CACert, c.CAKey, c.Broker)
		if err != nil {
			return nil, err
		}
		ca.Validity = c.Validity
		p = ca
	case "aws-iot":
		caPEM, err := os.ReadFile(c.IoTCAFile)
		if err != nil {
			return nil, fmt.Errorf("TICKETERO_IOT_CA_FILE: %w", err)
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("enroll: aws config: %w", err)
		}
		p = &IoT{API: iot.NewFromConfig(awsCfg), PolicyName: c.IoTPolicy, ThingType: c.IoTThingType,
			CAPEM: string(caPEM), Endpoint: c.IoTEndpoint, Port: c.IoTPort}
	}
	return &Handler{Store: store, Provisioner: p, Logger: log, Authorize: authorize}, nil
}

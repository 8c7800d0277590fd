// Package sns sends the customers' SMS through Amazon SNS (aws-sdk-go-v2
// service/sns: Publish to a phone number, transactional, with the bank's
// sender ID where the operator allows one). It is the SMS channel of the one
// notification pipeline: the worker that claims the channel's jobs calls
// Deliverer.Deliver, and the jobs' limits, retries and dead letters are the
// pipeline's.
package sns

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
)

// Config is the SMS part of the cloud's configuration (read from TICKETERO_SMS
// and TICKETERO_SNS_* by ticketero-cloud's cmd, parseSMSEnv).
type Config struct {
	// Enabled turns SMS on (TICKETERO_SMS=sns).
	Enabled bool
	// Region is SNS's region (TICKETERO_SNS_REGION; default the AWS config's).
	Region string
	// SenderID is the alphanumeric sender shown on phones, ≤ 11 letters or
	// digits (TICKETERO_SNS_SENDER_ID; Chile accepts one without registration).
	SenderID string
	// Endpoint overrides SNS's URL (TICKETERO_SNS_ENDPOINT; tests' fake).
	Endpoint string
	// Rate is this process's share of the account's SMS rate, messages per
	// second (TICKETERO_SNS_RATE, default 10).
	Rate float64
	// MaxPrice is the most one SMS may cost in USD, as SNS's
	// AWS.SNS.SMS.MaxPrice (TICKETERO_SNS_MAX_PRICE; empty: the account's).
	MaxPrice string
}

var senderRE = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)

// Validate names the bad field.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	if c.SenderID != "" && !senderRE.MatchString(c.SenderID) {
		return fmt.Errorf("TICKETERO_SNS_SENDER_ID %q: 1 to 11 letters or digits", c.SenderID)
	}
	if c.Rate <= 0 || c.Rate > 1000 {
		return fmt.Errorf("TICKETERO_SNS_RATE %v: must be above 0 and at most 1000", c.Rate)
	}
	if c.MaxPrice != "" {
		if f, err := strconv.ParseFloat(c.MaxPrice, 64); err != nil || f <= 0 {
			return fmt.Errorf("TICKETERO_SNS_MAX_PRICE %q: a price in USD such as 0.10", c.MaxPrice)
		}
	}
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		return fmt.Errorf("TICKETERO_SNS_ENDPOINT %q: not an http(s) URL", c.Endpoint)
	}
	return nil
}

// Client publishes SMS.
type Client struct {
	api *sns.Client
	cfg Config
}

// New builds a client from the AWS default credential chain (a task role in
// production; AWS_ACCESS_KEY_ID and friends in tests). The SDK's standard
// retryer retries throttling and 5xx up to 3 attempts with jittered backoff
// before the pipeline's own retries.
func New(ctx context.Context, cfg Config, hc *http.Client) (*Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{}
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	if hc != nil {
		opts = append(opts, awsconfig.WithHTTPClient(hc))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("sns: aws config: %w", err)
	}
	api := sns.NewFromConfig(ac, func(o *sns.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.MaxBackoff = 2 * time.Second
		})
	})
	return &Client{api: api, cfg: cfg}, nil
}

// Publish sends text to phone (E.164) and returns SNS's message ID.
func (c *Client) Publish(ctx context.Context, phone, text string) (string, error) {
	attrs := map[string]types.MessageAttributeValue{
		"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String("Transactional")},
	}
	if c.cfg.SenderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(c.cfg.SenderID)}
	}
	if c.cfg.MaxPrice != "" {
		attrs["AWS.SNS.SMS.MaxPrice"] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(c.cfg.MaxPrice)}
	}
	out, err := c.api.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String(phone), Message: aws.String(text),
		MessageAttributes: attrs})
	if err != nil {
		return "", fmt.Errorf("sns: publish: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// OptedOut asks SNS whether phone replied STOP.
func (c *Client) OptedOut(ctx context.Context, phone string) (bool, error) {
	out, err := c.api.CheckIfPhoneNumberIsOptedOut(ctx, &sns.CheckIfPhoneNumberIsOptedOutInput{PhoneNumber: aws.String(phone)})
	if err != nil {
		return false, fmt.Errorf("sns: opted out: %w", err)
	}
	return out.IsOptedOut, nil
}

// permanentCodes are SNS refusals that a retry cannot change.
var permanentCodes = map[string]bool{"InvalidParameter": true, "ParameterValueInvalid": true,
	"InvalidParameterValue": true, "ValidationError": true}

// classify turns an SNS error into the pipeline's SendError.
func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if _, ok := retry.DefaultThrottleErrorCodes[ae.ErrorCode()]; ok {
			return &cloud.SendError{Err: err, RateLimited: true, RetryAfter: time.Second}
		}
		if permanentCodes[ae.ErrorCode()] {
			return &cloud.SendError{Err: err, Permanent: true}
		}
	}
	return err
}

// PhoneOpener opens a recipient's sealed number (cloud.PhoneKeys.OpenPhone).
type PhoneOpener interface {
	OpenPhone(sealed []byte) (string, error)
}

// OptOutStore records a recipient that opted out.
type OptOutStore interface {
	MarkOptedOut(ctx context.Context, chatID int64) error
}

// Deliverer sends the SMS jobs the worker claims: the job's message in its
// SMS form (short, GSM-7, one SMS), after checking once per recipient and
// OptOutEvery that the number has not opted out.
type Deliverer struct {
	Client *Client
	Keys   PhoneOpener
	Store  OptOutStore
	// OptOutEvery is how long a "not opted out" answer is trusted (1 h).
	OptOutEvery time.Duration
	Now         func() time.Time

	mu      sync.Mutex
	checked map[int64]time.Time
}

// ErrOptedOut is the dead letter's reason for an opted-out number.
var ErrOptedOut = errors.New("sns: number opted out")

// Deliver sends j. A number that opted out is recorded and the job refused
// for good (&cloud.SendError{Permanent: true}).
func (d *Deliverer) Deliver(ctx context.Context, j cloud.NotificationJob) error {
	phone, err := d.Keys.OpenPhone(j.ChatEnc)
	if err != nil {
		return &cloud.SendError{Err: fmt.Errorf("sns: sealed number cannot be opened: %w", err), Permanent: true}
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	every := d.OptOutEvery
	if every <= 0 {
		every = time.Hour
	}
	d.mu.Lock()
	if d.checked == nil {
		d.checked = map[int64]time.Time{}
	}
	last, ok := d.checked[j.ChatID]
	d.mu.Unlock()
	if !ok || now().Sub(last) > every {
		out, err := d.Client.OptedOut(ctx, phone)
		if err != nil {
			return classify(err)
		}
		if out {
			if err := d.Store.MarkOptedOut(ctx, j.ChatID); err != nil {
				return err
			}
			return &cloud.SendError{Err: ErrOptedOut, Permanent: true}
		}
		d.mu.Lock()
		d.checked[j.ChatID] = now()
		d.mu.Unlock()
	}
	text := Fit(cloud.SMSText(j.Msg).Render(i18n.Lang(j.Lang)))
	if _, err := d.Client.Publish(ctx, phone, text); err != nil {
		return classify(err)
	}
	return nil
}

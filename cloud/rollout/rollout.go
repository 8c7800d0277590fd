// Package rollout offers HQ's agent releases to the branches their rollouts
// cover: agent binaries live in S3, each branch gets a retained release
// message (event.Release) with pre-signed download URLs, and boxes install
// it in the offer's window (agent/update). A stopped rollout's offers that
// no other rollout replaces are withdrawn: the retained message is cleared.
package rollout

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// Bucket is where agent binaries are kept: s3://Name/Prefix<version>/<os>-<arch>/ticketero-agent.
type Bucket struct {
	Client  *s3.Client
	Presign *s3.PresignClient
	Name    string
	Prefix  string
}

// NewBucket builds the S3 client from the default AWS configuration;
// endpoint, when set, is an S3-compatible server (path-style addressing).
func NewBucket(ctx context.Context, name, endpoint string) (*Bucket, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
	return &Bucket{Client: c, Presign: s3.NewPresignClient(c), Name: name, Prefix: "agent-releases/"}, nil
}

// Key is the object key of a platform's binary of version.
func (b *Bucket) Key(version, goos, goarch string) string {
	return path.Join(b.Prefix, version, goos+"-"+goarch, "ticketero-agent")
}

// Put uploads a binary.
func (b *Bucket) Put(ctx context.Context, key string, body []byte) error {
	_, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	return nil
}

// URL is a pre-signed GET of key, valid for ttl.
func (b *Bucket) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := b.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3 presign %s: %w", key, err)
	}
	return req.URL, nil
}

// Publisher sends a branch its retained release offer, or clears it.
type Publisher interface {
	PublishRelease(ctx context.Context, r event.Release) error
	WithdrawRelease(ctx context.Context, branch string) error
}

// PassJob is the rollout loop's job name for Passes.
const PassJob = "rollout.offers"

// DefaultHold is how long a replica's claim on a pass holds when Hold is not
// set: far longer than a pass over thousands of branches, and the longest
// a replica killed mid-pass delays the offers.
const DefaultHold = 5 * time.Minute

// Loop publishes due offers every Every. Offers are refreshed after Refresh
// (before their URLs, valid URLTTL, expire). With Passes, the replicas'
// loops run one pass at a time across the cluster: a pass is claimed
// (held for Hold at most), ended a half period after it succeeds (the
// other replicas skip their ticks meanwhile; a pass after that finds
// nothing due that the last one sent) or at once after it fails (another
// replica, perhaps with a working broker, tries at its tick). Without
// Passes every tick runs a pass.
type Loop struct {
	Store   cloud.ReleaseOffers
	Bucket  *Bucket
	Pub     Publisher
	Passes  cloud.PassClaimer
	Every   time.Duration
	Hold    time.Duration
	Refresh time.Duration
	URLTTL  time.Duration
	Now     func() time.Time
	Log     *slog.Logger
}

// Run offers until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	if l.Every <= 0 {
		l.Every = 30 * time.Second
	}
	if l.URLTTL <= 0 {
		l.URLTTL = 24 * time.Hour
	}
	if l.Refresh <= 0 || l.Refresh >= l.URLTTL {
		l.Refresh = l.URLTTL / 2
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	t := time.NewTicker(l.Every)
	defer t.Stop()
	for {
		if n, err := l.Once(ctx); err != nil {
			l.Log.Warn("agent rollout", "err", err, "offered", n)
		} else if n > 0 {
			l.Log.Info("agent release offers sent or withdrawn", "branches", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once publishes every due offer and withdraws every stopped one; it
// returns how many branches it sent either. With Passes it does so only
// when it claims the pass (another replica's pass holds: 0, nil).
func (l *Loop) Once(ctx context.Context) (int, error) {
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	hold := l.Hold
	if hold <= 0 {
		hold = DefaultHold
	}
	var n int
	_, err := cloud.RunPass(ctx, l.Passes, PassJob, hold, l.Every/2, func() (err error) {
		n, err = l.once(ctx)
		return err
	})
	return n, err
}

// once is a pass.
func (l *Loop) once(ctx context.Context) (int, error) {
	now := l.Now()
	due, err := l.Store.DueOffers(ctx, now, l.Refresh)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		if d.Withdraw {
			if err := l.Pub.WithdrawRelease(ctx, d.Branch); err != nil {
				return n, err
			}
			if err := l.Store.Withdrawn(ctx, d.Branch, d.Rollout.ID, now); err != nil {
				return n, err
			}
			l.Log.Info("agent release offer withdrawn", "branch", d.Branch, "version", d.Rollout.Version)
			n++
			continue
		}
		r := event.Release{V: event.Version, Branch: d.Branch, Version: d.Rollout.Version, Window: d.Rollout.Window, At: now.UTC()}
		for _, a := range d.Artifacts {
			u, err := l.Bucket.URL(ctx, a.S3Key, l.URLTTL)
			if err != nil {
				return n, err
			}
			r.Artifacts = append(r.Artifacts, event.ReleaseArtifact{Manifest: a.Manifest, Signature: a.Signature, URL: u})
		}
		if err := l.Pub.PublishRelease(ctx, r); err != nil {
			return n, err
		}
		if err := l.Store.Offered(ctx, d.Branch, d.Rollout, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

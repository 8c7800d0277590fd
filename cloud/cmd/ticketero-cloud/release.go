package main

// Remote agent updates: the `release` subcommands HQ ops use (keygen and sign
// run offline, where the signing key lives; publish, rollout, stop and status
// against the database and S3) and the rollout loop serve runs when
// TICKETERO_RELEASE_BUCKET is set.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/rollout"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/release"
)

// RolloutConfig is serve's rollout loop: TICKETERO_RELEASE_BUCKET (off when
// empty), TICKETERO_RELEASE_S3_ENDPOINT (an S3-compatible server) and
// TICKETERO_ROLLOUT_EVERY (30s).
type RolloutConfig struct {
	Bucket, Endpoint string
	Every            time.Duration
}

// parseRolloutEnv reads (envflag) and checks the rollout configuration; a bad
// TICKETERO_ROLLOUT_EVERY is an error even with rollouts off.
func parseRolloutEnv(getenv func(string) string) (RolloutConfig, error) {
	c := RolloutConfig{Every: 30 * time.Second}
	env := envflag.NewEnv(getenv)
	env.String(&c.Bucket, "TICKETERO_RELEASE_BUCKET")
	env.String(&c.Endpoint, "TICKETERO_RELEASE_S3_ENDPOINT")
	env.Duration(&c.Every, "TICKETERO_ROLLOUT_EVERY")
	if err := env.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if c.Every < 100*time.Millisecond {
		return c, fmt.Errorf("config: TICKETERO_ROLLOUT_EVERY %s must be at least 100ms", c.Every)
	}
	return c, nil
}

// newRollout builds the rollout loop from Config.Rollout (nil without a bucket).
func newRollout(ctx context.Context, m *Main) (func(context.Context), error) {
	c := m.Config.Rollout
	if c.Bucket == "" {
		return nil, nil
	}
	b, err := rollout.NewBucket(ctx, c.Bucket, c.Endpoint)
	if err != nil {
		return nil, err
	}
	// One replica at a time runs a pass (postgres.Passes): the others skip
	// their ticks while it holds the claim.
	l := &rollout.Loop{Store: postgres.Releases{Pool: m.Pool}, Bucket: b, Pub: m.MQTT, Passes: postgres.Passes{Pool: m.Pool},
		Every: c.Every, Log: m.Log}
	m.Log.Info("agent rollouts enabled", "bucket", c.Bucket, "every", c.Every)
	return l.Run, nil
}

const releaseUsage = `usage:
  ticketero-cloud release keygen --private FILE            (offline: writes the signing key, prints the public key)
  ticketero-cloud release sign --key FILE --version V --arch amd64|arm64 --bin FILE [--out FILE.sig.json]   (offline)
  ticketero-cloud release publish --version V --arch A --bin FILE --sig FILE.sig.json --public-key KEY --bucket B [--db URL]
  ticketero-cloud release rollout --version V --ring canary|region|all [--percent 10] [--region RM] [--window 22:00-06:00] [--by NAME] [--db URL]
  ticketero-cloud release stop --version V [--db URL]
  ticketero-cloud release status [--db URL] [--json]
--db defaults to TICKETERO_DB; --bucket to TICKETERO_RELEASE_BUCKET (S3 endpoint: TICKETERO_RELEASE_S3_ENDPOINT);
--public-key to TICKETERO_RELEASE_PUBLIC_KEY.`

// releaseCommand runs `ticketero-cloud release ...`.
func releaseCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(releaseUsage)
	}
	set := envflag.New("release "+args[0], os.Getenv, stderr)
	fs := set.Flags
	db := new(string)
	set.Secret(db, "db", "TICKETERO_DB", "PostgreSQL URL")
	if err := set.Env.Err(); err != nil { // read as the flags are declared
		return fmt.Errorf("config: %w", err)
	}
	version := fs.String("version", "", "agent version")
	arch := fs.String("arch", "amd64", "amd64 or arm64")
	bin := fs.String("bin", "", "agent binary")
	switch args[0] {
	case "keygen":
		priv := fs.String("private", "", "file to write the private key to (0600; keep it offline)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *priv == "" {
			return errors.New("release keygen: --private FILE is required")
		}
		pub, key, err := release.GenerateKey()
		if err != nil {
			return err
		}
		f, err := os.OpenFile(*priv, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 G703 -- path from the operator's command line
		if err != nil {
			return fmt.Errorf("release keygen: %w", err)
		}
		_, werr := f.WriteString(key + "\n")
		if err := errors.Join(werr, f.Close()); err != nil {
			return err
		}
		fmt.Fprintln(stdout, pub)
		return nil
	case "sign":
		keyFile := fs.String("key", "", "private key file")
		out := fs.String("out", "", "signature file (default BIN.sig.json)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		k, err := os.ReadFile(*keyFile) // #nosec G304 G703 -- path from the operator's command line
		if err != nil {
			return fmt.Errorf("release sign: --key: %w", err)
		}
		priv, err := release.ParsePrivateKey(string(k))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(*bin) // #nosec G304 G703 -- path from the operator's command line
		if err != nil {
			return fmt.Errorf("release sign: --bin: %w", err)
		}
		s, err := release.Sign(priv, release.Describe(*version, "linux", *arch, b, time.Now()))
		if err != nil {
			return err
		}
		if *out == "" {
			*out = *bin + ".sig.json"
		}
		raw, _ := json.MarshalIndent(s, "", "  ")
		return os.WriteFile(*out, raw, 0o644) // #nosec G306 G703 -- a path from the operator's command line; a signature is public
	case "publish":
		sigFile := fs.String("sig", "", "signature file from release sign")
		pubKey, bucket, endpoint := new(string), new(string), new(string)
		set.String(pubKey, "public-key", "TICKETERO_RELEASE_PUBLIC_KEY", "the boxes' trusted public key (base64)")
		set.String(bucket, "bucket", "TICKETERO_RELEASE_BUCKET", "S3 bucket")
		set.Env.String(endpoint, "TICKETERO_RELEASE_S3_ENDPOINT")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return publishRelease(ctx, *db, RolloutConfig{Bucket: *bucket, Endpoint: *endpoint}, *pubKey, *version, *arch, *bin, *sigFile, stdout)
	case "rollout":
		o := postgres.Rollout{}
		fs.StringVar(&o.Ring, "ring", "", "canary, region or all")
		fs.IntVar(&o.Percent, "percent", 100, "canary: percentage of branches")
		fs.StringVar(&o.Region, "region", "", "region ring: the region")
		fs.StringVar(&o.Window, "window", "22:00-06:00", "install window in each branch's time zone, or always")
		fs.StringVar(&o.By, "by", os.Getenv("USER"), "who starts it (recorded)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		o.Version = *version
		return withReleases(ctx, *db, func(r postgres.Releases) error {
			id, err := r.StartRollout(ctx, o)
			if err == nil {
				fmt.Fprintf(stdout, "rollout %d: %s to %s (window %s)\n", id, o.Version, ringText(o), o.Window)
			}
			return err
		})
	case "stop":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *version == "" {
			return errors.New("release stop: --version is required")
		}
		return withReleases(ctx, *db, func(r postgres.Releases) error {
			n, err := r.StopRollouts(ctx, *version)
			if err == nil {
				fmt.Fprintf(stdout, "%d rollout(s) of %s stopped; offers not yet taken are withdrawn at the next rollout round\n", n, *version)
			}
			return err
		})
	case "status":
		asJSON := fs.Bool("json", false, "JSON output")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return withReleases(ctx, *db, func(r postgres.Releases) error {
			boxes, err := r.Boxes(ctx)
			if err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(boxes)
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "BRANCH\tREGION\tONLINE\tRUNNING\tOFFERED\tLAST STEP\tVERSION\tREASON")
			for _, b := range boxes {
				offered := b.Offered
				if b.Stopped != "" {
					offered = strings.TrimSpace(offered + " stopped:" + b.Stopped)
				}
				fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\t%s\t%s\t%s\n", b.Branch, b.Region, b.Online, b.Running, offered, b.Last.State, b.Last.Version, b.Last.Reason)
			}
			return w.Flush()
		})
	}
	return errors.New(releaseUsage)
}

func ringText(o postgres.Rollout) string {
	switch o.Ring {
	case "canary":
		return fmt.Sprintf("canary %d%%", o.Percent)
	case "region":
		return "region " + o.Region
	}
	return "all branches"
}

func withReleases(ctx context.Context, db string, f func(postgres.Releases) error) error {
	if db == "" {
		return errors.New("release: --db (or TICKETERO_DB) is required")
	}
	pool, err := postgres.Open(ctx, db)
	if err != nil {
		return err
	}
	defer pool.Close()
	return f(postgres.Releases{Pool: pool})
}

// publishRelease verifies a signed binary with the boxes' public key (a
// release the boxes would refuse is never published), uploads it to S3 and
// records it.
func publishRelease(ctx context.Context, db string, store RolloutConfig, pubKey, version, arch, bin, sigFile string, stdout io.Writer) error {
	bucket := store.Bucket
	if bucket == "" {
		return errors.New("release publish: --bucket (or TICKETERO_RELEASE_BUCKET) is required")
	}
	pub, err := release.ParsePublicKey(pubKey)
	if err != nil {
		return fmt.Errorf("release publish: --public-key: %w", err)
	}
	raw, err := os.ReadFile(sigFile) // #nosec G304 G703 -- path from the operator's command line
	if err != nil {
		return fmt.Errorf("release publish: --sig: %w", err)
	}
	var s release.Signed
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("release publish: --sig: %w", err)
	}
	m, err := release.Verify(pub, s)
	if err != nil {
		return fmt.Errorf("release publish: %w", err)
	}
	if m.Version != version || m.Arch != arch {
		return fmt.Errorf("release publish: the signature is for %s %s/%s, not %s linux/%s", m.Version, m.OS, m.Arch, version, arch)
	}
	b, err := os.ReadFile(bin) // #nosec G304 G703 -- path from the operator's command line
	if err != nil {
		return fmt.Errorf("release publish: --bin: %w", err)
	}
	if err := m.Check(b); err != nil {
		return fmt.Errorf("release publish: %w", err)
	}
	bk, err := rollout.NewBucket(ctx, bucket, store.Endpoint)
	if err != nil {
		return err
	}
	key := bk.Key(m.Version, m.OS, m.Arch)
	return withReleases(ctx, db, func(r postgres.Releases) error {
		if err := bk.Put(ctx, key, b); err != nil {
			return err
		}
		if err := r.AddArtifact(ctx, postgres.Artifact{Version: m.Version, OS: m.OS, Arch: m.Arch, Manifest: s.Manifest, Signature: s.Signature, S3Key: key}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published %s %s/%s (%d bytes, sha256 %s) as s3://%s/%s\n", m.Version, m.OS, m.Arch, m.Size, m.SHA256, bucket, key)
		return nil
	})
}

package cloud

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/shared/release"
)

// Artifact is one platform's signed binary of a release.
type Artifact struct {
	Version, OS, Arch string
	Manifest          []byte
	Signature         []byte
	S3Key             string
}

// Rollout offers a version to a ring of branches.
type Rollout struct {
	ID      int64
	Version string
	// Ring is canary (Percent of branches), region (Region) or all.
	Ring    string
	Percent int
	Region  string
	Window  string
	By      string
	At      time.Time
}

// Validate checks a new rollout.
func (o Rollout) Validate() error {
	switch o.Ring {
	case "canary":
		if o.Percent < 1 || o.Percent > 100 {
			return fmt.Errorf("rollout: canary percent %d must be 1 to 100", o.Percent)
		}
	case "region":
		if o.Region == "" {
			return errors.New("rollout: the region ring needs a region")
		}
	case "all":
	default:
		return fmt.Errorf("rollout: ring %q must be canary, region or all", o.Ring)
	}
	if _, err := release.ParseWindow(o.Window); err != nil {
		return err
	}
	return nil
}

// Canary is branch's stable bucket (0–99) for version: a canary of p percent
// takes the branches whose bucket is below p, so widening it keeps the first.
func Canary(branch, version string) int {
	var h uint32 = 2166136261
	for _, c := range []byte(version + "/" + branch) {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h % 100)
}

// Covers reports whether the rollout reaches a branch in region.
func (o Rollout) Covers(branch, region string) bool {
	switch o.Ring {
	case "all":
		return true
	case "region":
		return region == o.Region
	case "canary":
		return Canary(branch, o.Version) < o.Percent
	}
	return false
}

// Due is an offer to (re)publish: the branch's rollout and artifacts; or,
// with Withdraw, an offer to take back: the branch holds an offer no active
// rollout covers any more (its rollout was stopped), Rollout is the one whose
// offer it holds and Artifacts is empty.
type Due struct {
	Branch    string
	Rollout   Rollout
	Artifacts []Artifact
	Withdraw  bool
}

// ReleaseOffers is what the rollout loop reads and records: the offers due
// now and the offer each branch was last sent.
type ReleaseOffers interface {
	// DueOffers returns, for each branch an active rollout covers, the offer
	// to publish when the branch holds another version or its offer is older
	// than refresh.
	DueOffers(ctx context.Context, now time.Time, refresh time.Duration) ([]Due, error)
	// Offered records that branch was offered o at at.
	Offered(ctx context.Context, branch string, o Rollout, at time.Time) error
	// Withdrawn records that branch's offer of rollout was taken back at at
	// (its retained release message cleared).
	Withdrawn(ctx context.Context, branch string, rollout int64, at time.Time) error
}

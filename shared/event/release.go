package event

import "time"

// KindRelease is the topic kind of the agent release offered to a branch
// (cloud → agent, QoS 1, retained: a box that was offline gets the latest
// offer when it reconnects; an empty retained message withdraws it: the box
// drops an offer it has not started downloading, and drops its held offer at
// each connection before the broker replays the retained one).
const KindRelease = "release"

// ReleaseTopic is where the cloud offers a branch an agent release.
func ReleaseTopic(branch string) string { return topicPrefix + branch + "/" + KindRelease }

// Release offers a branch one agent version, with a binary per platform (the
// box takes its own). Each artifact's Manifest is the signed document
// (shared/release.Manifest, exact bytes) and Signature its Ed25519 signature,
// both base64 in JSON; the box trusts only what its configured public key
// verifies, never the URL or the fields outside the manifest. URL is where the
// binary is downloaded (a pre-signed S3 GET). Window is when the branch may
// install it, "HH:MM-HH:MM" in the branch's time zone (may wrap midnight) or
// "always".
type Release struct {
	V         int               `json:"v"`
	Branch    string            `json:"branch"`
	Version   string            `json:"version"`
	Artifacts []ReleaseArtifact `json:"artifacts"`
	Window    string            `json:"window"`
	At        time.Time         `json:"at"`
}

// ReleaseArtifact is one platform's binary of a release.
type ReleaseArtifact struct {
	Manifest  []byte `json:"manifest"`
	Signature []byte `json:"signature"`
	URL       string `json:"url"`
}

func (r *Release) branchAndVersion() (string, int) { return r.Branch, r.V }

// AgentUpdate is the type of the event a box writes at each step of an agent
// update (the cloud stores it as it does any event; HQ reads each box's last
// one). The payload is shared/release.Report.
const AgentUpdate Type = "agent.update"

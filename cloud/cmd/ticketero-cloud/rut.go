package main

// RUT pseudonyms (docs/privacy.md): the network-wide RUT hash key
// (TICKETERO_RUT_KEY(_FILE)) stays in the cloud. From it the cloud derives an
// X25519 key pair (no second secret to deploy); configs carry only the public
// key, branches seal RUTs to it, and the ingest opens them and stores the
// keyed hash alone.

import (
	"context"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/seal"
)

// setupRUT derives the RUT keys from the configuration and gives them to the
// ingest (before any message is handled) and, through Main, to the HQ web.
func (m *Main) setupRUT(proc *ingest.Processor) error {
	var err error
	m.rutKeys, err = rutKeys(m.Config.Web)
	if err != nil {
		return err
	}
	if m.rutKeys == nil {
		m.Log.Warn("TICKETERO_RUT_KEY is not set: configs carry no RUT sealing key, tickets get no RUT pseudonym")
	}
	proc.RUT.SetKeys(m.rutKeys)
	return nil
}

// rutKeys derives the cloud's RUT keys from the web configuration (nil when
// no key is configured).
func rutKeys(wc WebConfig) (*seal.RUTKeys, error) {
	if wc.RUTKey == "" {
		return nil, nil
	}
	k, err := seal.DecodeRUTHashKey(wc.RUTKey)
	if err != nil {
		return nil, err
	}
	return seal.NewRUTKeys(k)
}

// republishRUTSeal, once the broker is connected, publishes again (as the
// next version) every branch config that does not carry the cloud's current
// RUT sealing key, e.g. every branch right after the upgrade that moved the
// hash key off the boxes: the retained config then holds the public key only.
// A config that cannot be sent stays stored, as an HQ publish does (HQ
// publishes the branch again).
func (m *Main) republishRUTSeal(ctx context.Context, store *hq.Store, pub cloud.ConfigPublisher, ready func() bool) {
	for ready != nil && !ready() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	key := ""
	if m.rutKeys != nil {
		key = m.rutKeys.PublicKey()
	}
	cfgs, err := store.RepublishRUTSealKey(ctx, key)
	if err != nil {
		m.Log.Error("rut seal key: publish configs again", "err", err)
	}
	sent := 0
	for _, c := range cfgs {
		if err := pub.PublishConfig(ctx, c); err != nil {
			m.Log.Error("rut seal key: config not sent", "branch", c.Branch, "version", c.Version, "err", err)
			continue
		}
		sent++
	}
	if len(cfgs) > 0 {
		m.Log.Info("rut seal key: configs published again", "stored", len(cfgs), "sent", sent)
	}
}

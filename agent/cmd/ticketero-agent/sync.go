package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/agent/mqtt"

	"github.com/ticketero/ticketero/shared/envflag"
)

// SyncConfig is the cloud link's configuration: with no MQTT URL the agent
// runs standalone.
type SyncConfig struct {
	MQTT       string        // --mqtt mqtts://host:8883 (TICKETERO_MQTT)
	Cert       string        // --cert branch client certificate, CN = branch (TICKETERO_CERT)
	Key        string        // --key (TICKETERO_KEY)
	CA         string        // --ca broker CA (TICKETERO_CA)
	AckTimeout time.Duration // --mqtt-ack-timeout resend after this long without the cloud's ack
}

func (c *SyncConfig) flags(s *envflag.Set) {
	s.String(&c.MQTT, "mqtt", "", "broker URL, mqtts://host:8883 or ssl://host:443 (AWS IoT); empty runs standalone")
	s.String(&c.Cert, "cert", "", "branch client certificate (PEM; CN = branch ID)")
	s.String(&c.Key, "key", "", "branch client key (PEM)")
	s.String(&c.CA, "ca", "", "broker CA (PEM)")
	s.Duration(&c.AckTimeout, "mqtt-ack-timeout", "", "without an advancing ack for this long, resend one batch (a probe; the wait backs off up to 2 min)")
}

// Validate checks the link's configuration when one is set.
func (c SyncConfig) Validate(branch string) error {
	if c.MQTT == "" {
		return nil
	}
	if err := (mqtt.Config{Branch: branch, URL: c.MQTT, CertFile: c.Cert, KeyFile: c.Key, CAFile: c.CA}).Validate(); err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	if c.AckTimeout < 0 {
		return fmt.Errorf("mqtt-ack-timeout: %s must not be negative (0: the relay's default)", c.AckTimeout)
	}
	return nil
}

// linkRun is the running relay.
type linkRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startLink builds the MQTT relay over the store when a broker is configured
// and sets it as the LAN API's Link.
func (m *Main) startLink() error {
	c := m.Config.Sync
	if c.MQTT == "" || m.Link != nil {
		return nil
	}
	mc := mqtt.Config{Branch: m.Config.Branch, URL: c.MQTT, CertFile: c.Cert, KeyFile: c.Key, CAFile: c.CA,
		AgentVersion: version, AckTimeout: c.AckTimeout}
	if m.Updater != nil {
		mc.Release, mc.Withdraw = m.Updater.Offer, m.Updater.Withdraw
	}
	r, err := mqtt.New(mc, m.Store, m.Store, m.Store, m.Logger)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.link = &linkRun{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.link.done)
		_ = r.Run(ctx)
	}()
	m.Link = r
	return nil
}

// stopLink stops the relay (publishing its offline status).
func (m *Main) stopLink() {
	if m.link != nil {
		m.link.cancel()
		<-m.link.done
		m.link = nil
	}
}

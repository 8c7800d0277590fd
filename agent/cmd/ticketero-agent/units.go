package main

import (
	_ "embed"
	"strings"
)

// agentUnit is a verbatim copy of deploy/systemd/ticketero-agent.service (the
// deploy engineer's unit; go:embed cannot reach ../../../deploy).
// TestInstallUnitMatchesDeploy fails when the two drift apart.
//
//go:embed ticketero-agent.service
var agentUnit string

const backupService = `[Unit]
Description=Ticketero branch agent: nightly online backup
After=ticketero-agent.service

[Service]
Type=oneshot
User=ticketero
Group=ticketero
EnvironmentFile=ENVFILE
Environment=TICKETERO_DATA=/var/lib/ticketero
ExecStart=/usr/local/bin/ticketero-agent backup
UMask=0077
ProtectSystem=strict
ReadWritePaths=/var/lib/ticketero
ProtectHome=true
PrivateTmp=true
NoNewPrivileges=true
CapabilityBoundingSet=
`

const backupTimer = `[Unit]
Description=Ticketero branch agent: nightly backup at 03:00

[Timer]
OnCalendar=*-*-* 03:00:00
RandomizedDelaySec=20m
Persistent=true

[Install]
WantedBy=timers.target
`

const renewService = `[Unit]
Description=Ticketero branch agent: certificate renewal before expiry

[Service]
Type=oneshot
User=ticketero
Group=ticketero
EnvironmentFile=ENVFILE
Environment=TICKETERO_DATA=/var/lib/ticketero
ExecStart=/usr/local/bin/ticketero-agent renew
# After a renewal, restart the agent (under 2 s without the LAN API, at night)
# so its MQTT link presents the new certificate. "+" runs it privileged.
ExecStartPost=+/bin/sh -c 'if [ -f /var/lib/ticketero/tls/renewed ]; then rm -f /var/lib/ticketero/tls/renewed; systemctl try-restart ticketero-agent.service; fi'
UMask=0077
ProtectSystem=strict
ReadWritePaths=/var/lib/ticketero
ProtectHome=true
PrivateTmp=true
NoNewPrivileges=true
CapabilityBoundingSet=
`

const renewTimer = `[Unit]
Description=Ticketero branch agent: daily certificate check

[Timer]
OnCalendar=*-*-* 04:30:00
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`

// units returns the unit files install writes, by name.
func units(envFile string) map[string]string {
	agent := agentUnit
	if envFile != "/etc/ticketero/agent.env" {
		agent = strings.ReplaceAll(agent, "EnvironmentFile=/etc/ticketero/agent.env", "EnvironmentFile="+envFile)
	}
	r := strings.NewReplacer("ENVFILE", envFile)
	return map[string]string{
		"ticketero-agent.service":        agent,
		"ticketero-agent-backup.service": r.Replace(backupService),
		"ticketero-agent-backup.timer":   backupTimer,
		"ticketero-agent-renew.service":  r.Replace(renewService),
		"ticketero-agent-renew.timer":    renewTimer,
	}
}

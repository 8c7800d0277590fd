package main

import (
	_ "embed"
	"regexp"
	"strings"
)

// agentUnit is a verbatim copy of deploy/systemd/ticketero-agent.service (the
// unit deploy/ ships; go:embed cannot reach ../../../deploy).
// TestInstallUnitMatchesDeploy fails when the two drift apart.
//
//go:embed ticketero-agent.service
var agentUnit string

// sandbox is the agent unit's hardening (from its ProtectSystem= line to the
// end of [Service], and its UMask=), shared by the backup and renewal
// services: they run the same binary as the same user on the same data and
// need no more (network for S3 and the cloud, nothing else). Its
// ReadWritePaths= names the data directory, the one path they may write.
var sandbox = func() string {
	var b strings.Builder
	b.WriteString("UMask=0077\n")
	in := false
	for _, line := range strings.Split(agentUnit, "\n") {
		in = (in || strings.HasPrefix(line, "ProtectSystem=")) && !strings.HasPrefix(line, "[")
		if in && line != "" && !strings.HasPrefix(line, "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}()

const backupService = `[Unit]
Description=Ticketero branch agent: nightly online backup
After=ticketero-agent.service

[Service]
Type=oneshot
User=ticketero
Group=ticketero
EnvironmentFile=ENVFILE
Environment=TICKETERO_DATA=@DATA@
WorkingDirectory=@DATA@
ExecStart=/usr/local/bin/ticketero-agent backup
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
Environment=TICKETERO_DATA=@DATA@
WorkingDirectory=@DATA@
ExecStart=/usr/local/bin/ticketero-agent renew
# After a renewal, restart the agent (under 2 s without the LAN API, at night)
# so its MQTT link presents the new certificate. "+" runs it privileged and
# outside the sandbox below (systemctl needs the system bus).
ExecStartPost=+/bin/sh -c 'if [ -f @DATA@/tls/renewed ]; then rm -f @DATA@/tls/renewed; systemctl try-restart ticketero-agent.service; fi'
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

// defaultData is the data directory the shipped unit names (StateDirectory).
const defaultData = "/var/lib/ticketero"

// safeUnitPath is what install accepts as the data directory: an absolute
// path systemd reads as one word, with no specifier (%) or quoting to escape.
var safeUnitPath = regexp.MustCompile(`^/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$`)

// units returns the unit files install writes, by name, for the data
// directory data (checked with safeUnitPath). Every unit may write data and
// nothing else; outside /var/lib/ticketero the agent's StateDirectory= (which
// only creates directories under /var/lib) gives way to ReadWritePaths=data,
// and data must exist, owned by the service user (enrolment made it).
func units(envFile, data string) map[string]string {
	agent := agentUnit
	if envFile != "/etc/ticketero/agent.env" {
		agent = strings.ReplaceAll(agent, "EnvironmentFile=/etc/ticketero/agent.env", "EnvironmentFile="+envFile)
	}
	if data != defaultData {
		var b strings.Builder
		for _, line := range strings.SplitAfter(agent, "\n") {
			if strings.HasPrefix(line, "StateDirectory") {
				continue
			}
			b.WriteString(strings.ReplaceAll(line, defaultData, data))
		}
		agent = b.String()
	}
	r := strings.NewReplacer("ENVFILE", envFile, "@DATA@", data, defaultData, data)
	return map[string]string{
		"ticketero-agent.service":        agent,
		"ticketero-agent-backup.service": r.Replace(backupService + sandbox),
		"ticketero-agent-backup.timer":   backupTimer,
		"ticketero-agent-renew.service":  r.Replace(renewService + sandbox),
		"ticketero-agent-renew.timer":    renewTimer,
	}
}

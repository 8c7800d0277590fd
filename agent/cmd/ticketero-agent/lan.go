package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// LANConfig is how the agent meets the branch LAN: the names it answers to
// (the LAN API refuses any other Host, against DNS rebinding).
type LANConfig struct {
	// Names are the box's LAN names, comma-separated ("" = its host name and
	// <host name>.local). localhost and IP addresses are always accepted.
	Names string
}

func (c *LANConfig) flags(fs *flag.FlagSet, getenv func(string) string) {
	if v := getenv(envName("lan-names")); v != "" {
		c.Names = v
	}
	fs.StringVar(&c.Names, "lan-names", c.Names, "names the LAN API answers to, comma-separated; localhost and IP addresses always (default: host name and <host name>.local) ("+envName("lan-names")+")")
}

// Validate checks the names.
func (c LANConfig) Validate() error {
	for _, n := range strings.Split(c.Names, ",") {
		n = strings.TrimSpace(n)
		if len(n) > 253 || strings.ContainsAny(n, " /:@[]") {
			return fmt.Errorf("lan-names: %q is not a host name", n)
		}
	}
	return nil
}

// Hosts lists the names the LAN API answers to.
func (c LANConfig) Hosts() []string {
	out := []string{}
	for _, n := range strings.Split(c.Names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		if h, err := os.Hostname(); err == nil && h != "" {
			out = append(out, h)
			if !strings.Contains(h, ".") {
				out = append(out, h+".local")
			}
		}
	}
	return out
}

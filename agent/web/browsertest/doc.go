// Package browsertest drives the branch UIs of agent/web in Debian's chromium
// (chromedp) against the real ticketero-agent binary: a ticket issued at the
// kiosk appears on the executive terminal, is called there, and the waiting-room
// display shows it, also after the agent restarts. It holds only tests.
package browsertest

package event

import "strings"

const topicPrefix = "ticketero/v1/branches/"

// Topic kinds, the last segment of a branch topic.
const (
	KindEvents = "events"
	KindAck    = "ack"
	KindConfig = "config"
	KindStatus = "status"
)

// EventsTopic is where a branch publishes event batches (QoS 1).
func EventsTopic(branch string) string { return topicPrefix + branch + "/" + KindEvents }

// AckTopic is where the cloud acknowledges a branch's stored events (QoS 1).
func AckTopic(branch string) string { return topicPrefix + branch + "/" + KindAck }

// ConfigTopic carries the branch's retained config snapshot (QoS 1, retained).
func ConfigTopic(branch string) string { return topicPrefix + branch + "/" + KindConfig }

// StatusTopic carries the branch's retained status and last will (QoS 1, retained).
func StatusTopic(branch string) string { return topicPrefix + branch + "/" + KindStatus }

// EventsFilter matches every branch's events topic.
const EventsFilter = topicPrefix + "+/" + KindEvents

// SharedEventsFilter is the shared subscription cloud replicas use to split the load.
const SharedEventsFilter = "$share/cloud/" + EventsFilter

// StatusFilter matches every branch's status topic.
const StatusFilter = topicPrefix + "+/" + KindStatus

// ParseTopic splits a branch topic into branch and kind; ok is false for any
// other topic.
func ParseTopic(topic string) (branch, kind string, ok bool) {
	rest, found := strings.CutPrefix(topic, topicPrefix)
	if !found {
		return "", "", false
	}
	branch, kind, found = strings.Cut(rest, "/")
	if !found || branch == "" || strings.Contains(kind, "/") {
		return "", "", false
	}
	switch kind {
	case KindEvents, KindAck, KindConfig, KindStatus, KindCommands, KindRelease:
		return branch, kind, true
	}
	return "", "", false
}

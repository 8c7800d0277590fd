package hq

// The HQ domain types, enums and pure functions live at the cloud root
// (cloud/hq_*.go, with the cloud.HQStore interfaces this package implements)
// so services depend on them, not on this adapter. This package's own code
// names those it uses unqualified through these aliases (drop one nothing
// here uses); every other package uses the cloud names.

import "github.com/ticketero/ticketero/cloud"

type (
	AlertRules       = cloud.AlertRules
	Alert            = cloud.HQAlert
	AuditFilter      = cloud.AuditFilter
	BranchInfo       = cloud.BranchInfo
	QueueRow         = cloud.QueueRow
	ExecutiveRow     = cloud.ExecutiveRow
	TimelineItem     = cloud.TimelineItem
	TicketRow        = cloud.TicketRow
	BranchDetail     = cloud.BranchDetail
	TicketFilter     = cloud.TicketFilter
	QuarantinedEvent = cloud.QuarantinedEvent
	Choice           = cloud.Choice
	FilterChoices    = cloud.FilterChoices
	BranchInput      = cloud.BranchInput
	ConfigExecutive  = cloud.ConfigExecutive
	ConfigVersion    = cloud.ConfigVersion
	BranchConfig     = cloud.BranchConfig
	RunningConfig    = cloud.RunningConfig
	DiffItem         = cloud.DiffItem
	Stranded         = cloud.Stranded
	Preview          = cloud.Preview
	Tile             = cloud.Tile
	OverviewFilter   = cloud.OverviewFilter
	ReportQuery      = cloud.ReportQuery
	ReportRow        = cloud.ReportRow
	Report           = cloud.Report
	OutcomeCount     = cloud.OutcomeCount
	ExecutiveDay     = cloud.ExecutiveDay
	FeedbackRow      = cloud.FeedbackRow
	WaitBand         = cloud.WaitBand
	FeedbackReport   = cloud.FeedbackReport
	FeedbackComment  = cloud.FeedbackComment
	Role             = cloud.Role
	Scope            = cloud.Scope
	Principal        = cloud.Principal
	User             = cloud.User
	NewUser          = cloud.NewUser
	APIToken         = cloud.APIToken
)

const (
	AlertQueueLong     = cloud.AlertQueueLong
	AlertWaitOver      = cloud.AlertWaitOver
	AlertOffline       = cloud.AlertOffline
	AlertBacklogUp     = cloud.AlertBacklogUp
	AlertSeqConflict   = cloud.AlertSeqConflict
	AlertStalled       = cloud.AlertStalled
	AlertQuarantine    = cloud.AlertQuarantine
	AlertPINGuessing   = cloud.AlertPINGuessing
	PINGuessWindow     = cloud.PINGuessWindow
	QuarantineWindow   = cloud.QuarantineWindow
	AlertsChanged      = cloud.AlertsChanged
	AlertLowScore      = cloud.AlertLowScore
	LowScoreWindow     = cloud.LowScoreWindow
	AuditConfigPublish = cloud.AuditConfigPublish
	MaxOutcomes        = cloud.MaxOutcomes
	MinPasswordLen     = cloud.MinPasswordLen
	BootstrapEmail     = cloud.BootstrapEmail
	TokenPrefix        = cloud.TokenPrefix
)

var (
	DiffConfig  = cloud.DiffConfig
	AllBranches = cloud.AllBranches
)

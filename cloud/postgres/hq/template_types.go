package hq

import "github.com/ticketero/ticketero/cloud"

// The template types live at the cloud root (cloud/hq_template.go); these
// aliases keep this package's code short.
type (
	Template        = cloud.Template
	Resolved        = cloud.Resolved
	BranchPreview   = cloud.BranchPreview
	TemplatePreview = cloud.TemplatePreview
	PublishOptions  = cloud.PublishOptions
	StageResult     = cloud.StageResult
	TemplateRollout = cloud.TemplateRollout
	VersionRow      = cloud.VersionRow
	VersionFilter   = cloud.VersionFilter
)

const (
	TargetRegion          = cloud.TargetRegion
	TargetTag             = cloud.TargetTag
	TargetBranches        = cloud.TargetBranches
	OverrideHours         = cloud.OverrideHours
	OverrideRules         = cloud.OverrideRules
	OverrideAppointments  = cloud.OverrideAppointments
	OverrideOutcomes      = cloud.OverrideOutcomes
	OverrideServicePrefix = cloud.OverrideServicePrefix
	AuditConfigTemplate   = cloud.AuditConfigTemplate
	ResultPublished       = cloud.ResultPublished
	ResultUnchanged       = cloud.ResultUnchanged
	ResultRefused         = cloud.ResultRefused
	ResultUnsent          = cloud.ResultUnsent
	RolloutFirstStage     = cloud.RolloutFirstStage
	RolloutDone           = cloud.RolloutDone
)

// Resolve is cloud.Resolve.
var Resolve = cloud.Resolve

var _ cloud.Templates = (*Store)(nil)

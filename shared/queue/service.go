package queue

import (
	"fmt"
	"time"
)

// Service is a queue at a branch, identified by a one-letter code (C for Caja).
// Priority orders services when an executive serves several: higher first.
type Service struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	TargetWaitS  int    `json:"target_wait_s"`
	MeanServiceS int    `json:"mean_service_s"`
	Priority     int    `json:"priority"`
}

// TargetWait is the wait the bank promises for this service.
func (s Service) TargetWait() time.Duration { return time.Duration(s.TargetWaitS) * time.Second }

// MeanService is the configured mean service time, the seed of the estimate.
func (s Service) MeanService() time.Duration {
	return time.Duration(s.MeanServiceS) * time.Second
}

// ValidServiceCode reports whether code is one upper-case letter A-Z.
func ValidServiceCode(code string) bool {
	return len(code) == 1 && code[0] >= 'A' && code[0] <= 'Z'
}

// Validate checks the service. Errors: invalid service.invalid_code, service.invalid.
func (s Service) Validate() error {
	if !ValidServiceCode(s.Code) {
		return Errorf(CodeInvalid, "service.invalid_code", s.Code)
	}
	switch {
	case s.Name == "" || len(s.Name) > 64 || !ValidText(s.Name, 64):
		return Errorf(CodeInvalid, "service.invalid", s.Code, "name must have 1 to 64 characters, none a control character")
	case s.TargetWaitS <= 0:
		return Errorf(CodeInvalid, "service.invalid", s.Code, fmt.Sprintf("target_wait_s %d must be positive", s.TargetWaitS))
	case s.MeanServiceS <= 0:
		return Errorf(CodeInvalid, "service.invalid", s.Code, fmt.Sprintf("mean_service_s %d must be positive", s.MeanServiceS))
	}
	return nil
}

// DefaultServices are the four services a new branch starts with (the bank's
// launch configuration): Caja, Personal Banker, Empresas, Gerencia (highest).
func DefaultServices() []Service {
	return []Service{
		{Code: "C", Name: "Caja", TargetWaitS: 10 * 60, MeanServiceS: 5 * 60, Priority: 1},
		{Code: "P", Name: "Personal Banker", TargetWaitS: 20 * 60, MeanServiceS: 15 * 60, Priority: 2},
		{Code: "E", Name: "Empresas", TargetWaitS: 20 * 60, MeanServiceS: 20 * 60, Priority: 2},
		{Code: "G", Name: "Gerencia", TargetWaitS: 30 * 60, MeanServiceS: 30 * 60, Priority: 3},
	}
}

// PriorityClass is the customer's attention class within a service.
type PriorityClass string

// Priority classes. Preferential is the legal duty (elderly, disabled, pregnant);
// premium is a bank segment.
const (
	Normal       PriorityClass = "normal"
	Preferential PriorityClass = "preferential"
	Premium      PriorityClass = "premium"
)

// ParsePriorityClass parses a class; empty means normal. Errors: invalid priority.invalid.
func ParsePriorityClass(s string) (PriorityClass, error) {
	switch PriorityClass(s) {
	case "", Normal:
		return Normal, nil
	case Preferential, "preferencial":
		return Preferential, nil
	case Premium:
		return Premium, nil
	}
	return "", Errorf(CodeInvalid, "priority.invalid", s)
}

// Counter is a service point (módulo) at a branch, numbered from 1.
type Counter struct {
	Number int    `json:"number"`
	Name   string `json:"name,omitempty"`
}

// Executive is a branch employee who serves customers at a counter. Services lists
// the service codes he serves, in his order of preference.
type Executive struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
}

// ValidExecutiveID is the one rule for executive IDs, wherever one is made
// (the agent's CLI, HQ, a branch's reported configuration): letters, digits,
// '_' and '-', 1 to 32 bytes, e.g. "E01". It names the executive in URLs,
// events and audit.
func ValidExecutiveID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// FirstName returns the executive's first name, as a customer is told.
func (e Executive) FirstName() string {
	for i, r := range e.Name {
		if r == ' ' {
			return e.Name[:i]
		}
	}
	return e.Name
}

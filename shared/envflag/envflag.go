// Package envflag reads a Ticketero binary's configuration: command-line flags
// over TICKETERO_* environment variables over the defaults already in the
// configuration struct, with NAME_FILE (the file's trimmed content) for
// secrets. A value that cannot be used (not a number, not a duration, a
// _FILE that cannot be read) is an error naming the variable and the value,
// never dropped. Each binary's cmd builds its configuration with it and then
// calls the configuration's one Validate.
package envflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Prefix starts every variable.
const Prefix = "TICKETERO_"

// Name is the variable of a flag: TICKETERO_ and the flag in upper case, with
// '-' as '_' (data-key-file → TICKETERO_DATA_KEY_FILE).
func Name(flag string) string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Env reads variables through Getenv, keeping every bad value as an error.
type Env struct {
	Getenv func(string) string
	errs   []error
	flags  map[string]string // variable → its flag, named in errors
}

// NewEnv reads variables through getenv (os.Getenv in main).
func NewEnv(getenv func(string) string) *Env { return &Env{Getenv: getenv} }

// Invalid records that variable name holds value, which is not want (e.g.
// "a number from 0 to 10").
func (e *Env) Invalid(name, value, want string) {
	e.errs = append(e.errs, fmt.Errorf("%s: %q is not %s", e.label(name), value, want))
}

// label names variable name and, when it has one, its flag.
func (e *Env) label(name string) string {
	if f, ok := e.flags[name]; ok {
		return name + " (--" + f + ")"
	}
	return name
}

// Err is every bad value read so far (nil if none).
func (e *Env) Err() error { return errors.Join(e.errs...) }

// String sets *p to variable name when it is set.
func (e *Env) String(p *string, name string) {
	if v := e.Getenv(name); v != "" {
		*p = v
	}
}

// Secret sets *p to variable name or, when that is empty, to the trimmed
// content of the file named by name_FILE. A file that cannot be read is an
// error naming name_FILE and the path.
func (e *Env) Secret(p *string, name string) {
	if v := e.Getenv(name); v != "" {
		*p = v
		return
	}
	f := e.Getenv(name + "_FILE")
	if f == "" {
		return
	}
	b, err := os.ReadFile(f) // #nosec G304 -- path from the operator's configuration, never from a request
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %q cannot be read: %w", e.label(name+"_FILE"), f, err))
		return
	}
	*p = strings.TrimSpace(string(b))
}

// Int sets *p to variable name, an integer, when it is set.
func (e *Env) Int(p *int, name string) { read(e, p, name, strconv.Atoi, "a whole number") }

// Bool sets *p to variable name, true or false, when it is set.
func (e *Env) Bool(p *bool, name string) { read(e, p, name, strconv.ParseBool, "true or false") }

// Float sets *p to variable name, a decimal number, when it is set.
func (e *Env) Float(p *float64, name string) {
	read(e, p, name, func(v string) (float64, error) { return strconv.ParseFloat(v, 64) }, "a number")
}

// Duration sets *p to variable name, a Go duration (10s, 5m, 2h30m), when it
// is set.
func (e *Env) Duration(p *time.Duration, name string) {
	read(e, p, name, time.ParseDuration, "a duration such as 10s or 5m")
}

// read sets *p to variable name parsed by parse when it is set; a value parse
// refuses is recorded as not want, and *p keeps its value.
func read[T any](e *Env, p *T, name string, parse func(string) (T, error), want string) {
	v := e.Getenv(name)
	if v == "" {
		return
	}
	x, err := parse(v)
	if err != nil {
		e.Invalid(name, v, want)
		return
	}
	*p = x
}

// Set is a flag set whose flags take their default from their variable, read
// through its Env. Every method takes the flag's name and its variable's; an
// empty variable is Name(flag). The variable is added to the flag's help.
type Set struct {
	Flags *flag.FlagSet
	Env   *Env
}

// New returns a set named name (the subcommand) printing usage and flag
// errors to out.
func New(name string, getenv func(string) string, out io.Writer) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return &Set{Flags: fs, Env: NewEnv(getenv)}
}

// variable is the variable of flag (env, or Name(flag) when empty), noted
// so that an error about it names the flag too.
func (s *Set) variable(flag, env string) string {
	if env == "" {
		env = Name(flag)
	}
	if s.Env.flags == nil {
		s.Env.flags = map[string]string{}
	}
	s.Env.flags[env] = flag
	s.Env.flags[env+"_FILE"] = flag
	return env
}

func help(h, env string) string { return h + " (" + env + ")" }

// String is a string flag defaulting to its variable.
func (s *Set) String(p *string, name, env, usage string) {
	env = s.variable(name, env)
	s.Env.String(p, env)
	s.Flags.StringVar(p, name, *p, help(usage, env))
}

// Secret is a string flag defaulting to its variable or the file named by
// the variable with _FILE (see Env.Secret).
func (s *Set) Secret(p *string, name, env, usage string) {
	env = s.variable(name, env)
	s.Env.Secret(p, env)
	s.Flags.StringVar(p, name, *p, help(usage, env+" or "+env+"_FILE"))
}

// Int is an integer flag defaulting to its variable.
func (s *Set) Int(p *int, name, env, usage string) {
	env = s.variable(name, env)
	s.Env.Int(p, env)
	s.Flags.IntVar(p, name, *p, help(usage, env))
}

// Bool is a boolean flag defaulting to its variable.
func (s *Set) Bool(p *bool, name, env, usage string) {
	env = s.variable(name, env)
	s.Env.Bool(p, env)
	s.Flags.BoolVar(p, name, *p, help(usage, env))
}

// Duration is a duration flag defaulting to its variable.
func (s *Set) Duration(p *time.Duration, name, env, usage string) {
	env = s.variable(name, env)
	s.Env.Duration(p, env)
	s.Flags.DurationVar(p, name, *p, help(usage, env))
}

// Parse parses args over the variables' values: a bad flag (flag.ErrHelp
// for -h), an argument that is no flag, or any bad variable is an error.
func (s *Set) Parse(args []string) error {
	if err := s.Flags.Parse(args); err != nil {
		return err
	}
	if s.Flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", s.Flags.Arg(0))
	}
	return s.Env.Err()
}

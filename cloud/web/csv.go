package web

import (
	"encoding/csv"
	"io"
	"regexp"
)

// csvWriter writes exports that are safe to open in a spreadsheet: a text
// cell starting with = + - @ tab or carriage return would be read as a
// formula (CSV injection, e.g. an audit actor "=HYPERLINK(...)"), so it gets
// a leading single quote. Numbers (including negative ones) are left as they are.
type csvWriter struct{ w *csv.Writer }

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

func (c *csvWriter) Write(row []string) error {
	out := make([]string, len(row))
	for i, s := range row {
		out[i] = csvCell(s)
	}
	return c.w.Write(out)
}

func (c *csvWriter) Flush() { c.w.Flush() }

var plainNumber = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)

func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if plainNumber.MatchString(s) {
			return s
		}
		return "'" + s
	}
	return s
}

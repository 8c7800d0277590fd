package web

import (
	"encoding/csv"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/shared/i18n"
)

// csvWriter writes exports that open as columns in a spreadsheet set to
// es-CL (Excel's list separator there is ';' and its decimal mark ','): a
// UTF-8 byte order mark first (without it Excel reads the file as Windows-1252
// and "Región" becomes "RegiÃ³n"), ';' between cells, and numbers with a
// decimal comma (decimal). A text cell starting with = + - @ tab or carriage
// return would be read as a formula (CSV injection, e.g. an audit actor
// "=HYPERLINK(...)"), so it gets a leading single quote. Numbers (including
// negative ones) are left as they are.
type csvWriter struct{ w *csv.Writer }

// csvBOM is the UTF-8 byte order mark every export starts with.
const csvBOM = "\uFEFF"

func newCSVWriter(w io.Writer) *csvWriter {
	_, _ = io.WriteString(w, csvBOM)
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	return &csvWriter{w: cw}
}

func (c *csvWriter) Write(row []string) error {
	out := make([]string, len(row))
	for i, s := range row {
		out[i] = csvCell(s)
	}
	return c.w.Write(out)
}

func (c *csvWriter) Flush() { c.w.Flush() }

var plainNumber = regexp.MustCompile(`^[-+]?[0-9]+([.,][0-9]+)?$`)

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

// decimal formats x with prec decimals and a decimal comma (es-CL).
func decimal(x float64, prec int) string {
	return strings.Replace(strconv.FormatFloat(x, 'f', prec, 64), ".", ",", 1)
}

// decimalIn formats x with prec decimals as lang writes them: a decimal
// comma in Spanish, a point in English.
func decimalIn(lang i18n.Lang, x float64, prec int) string {
	if lang == i18n.EN {
		return strconv.FormatFloat(x, 'f', prec, 64)
	}
	return decimal(x, prec)
}

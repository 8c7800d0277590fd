package queue

import (
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxText bounds, in characters, a free-text field that has no tighter limit
// of its own.
const MaxText = 200

// ValidText reports whether s may be stored and sent as single-line free text:
// valid UTF-8, no control character (C0 including NUL, DEL, C1; so no line
// break either) and at most max characters. Such text is what PostgreSQL and
// every screen downstream take as is: one NUL in a pause reason once stopped a
// branch's sync.
func ValidText(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// CheckText validates the free-text field named field (as the client knows
// it) with ValidText. Errors: invalid text.invalid (field, max).
func CheckText(field, s string, max int) error {
	if ValidText(s, max) {
		return nil
	}
	return Errorf(CodeInvalid, "text.invalid", field, max)
}

// CheckStrings applies CheckText with MaxText to every string reachable from
// v (struct fields by their JSON names, pointers, slices, arrays, map keys and
// values): one call validates a whole decoded request. Errors: invalid
// text.invalid naming the first bad field.
func CheckStrings(v any) error {
	return checkValue(reflect.ValueOf(v), "")
}

func checkValue(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.String:
		return CheckText(fieldName(path), v.String(), MaxText)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if err := checkValue(v.Field(i), join(path, name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkValue(v.Index(i), path); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if err := checkValue(it.Key(), path); err != nil {
				return err
			}
			if err := checkValue(it.Value(), path); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldName(path string) string {
	if path == "" {
		return "texto"
	}
	return path
}

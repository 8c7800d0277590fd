package ingest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// mayCarrySealedAsToLower is what Apply tested before mayCarrySealed, with
// the long s (U+017F) that test missed.
func mayCarrySealedAsToLower(data []byte) bool {
	return bytes.Contains(bytes.ToLower(data), sealedField) || bytes.Contains(data, []byte(`\u`)) ||
		bytes.Contains(data, []byte("\u017f"))
}

var mayCarrySealedSeeds = []string{
	``, `"`, `"rut_sealed`, `"rut_sealed"`, `{"rut_sealed":"x"}`, `{"RUT_SEALED":"x"}`, `{"Rut_Sealed":"x"}`,
	`{"rut_sealed" :1}`, `{"rut_hash":"x"}`, `{"ticket":"t1","service":"P","number":1}`, `{"a":"\u0072ut_sealed"}`,
	`{"rut_seale":"x"}`, `""rut_sealed"`, `"rut_sealed"rut_sealed"`, `{"ticket":"Ana Pérez","rut_sEaLeD":"x"}`,
	"\"rut_\xffsealed\"", "\"rut_se\u0130aled\"", "\"rut_sea\u212aled\"", "\xff\"rut_sealed\"", "\"RUT_SEALED\"\xc3",
	"\"rut_\u017fealed\"", "\"rut_sealed\xe2\x84\xaa\"", `{"x":"\"rut_sealed\""}`, "\"\"\"\"\"\"\"\"\"\"\"\"",
}

func TestMayCarrySealedAsToLower(t *testing.T) {
	for _, s := range mayCarrySealedSeeds {
		if got, want := mayCarrySealed([]byte(s)), mayCarrySealedAsToLower([]byte(s)); got != want {
			t.Errorf("mayCarrySealed(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestMayCarrySealedWhereGoDecodesIt: every spelling of the key that Go
// decodes into Issued.RUTSealed is caught, the long s among them (missed
// before 2026-12-02: {"rut_ſealed": ...} reached the store sealed).
func TestMayCarrySealedWhereGoDecodesIt(t *testing.T) {
	for _, s := range []string{`{"rut_sealed":"x"}`, `{"RUT_sealed":"x"}`, `{"rut_\u0073ealed":"x"}`, `{"rut_ſealed":"x"}`, `{"RUT_ſEALED":"x"}`} {
		var d event.Issued
		require.NoError(t, json.Unmarshal([]byte(s), &d), s)
		require.Equal(t, "x", d.RUTSealed, s)
		assert.True(t, mayCarrySealed([]byte(s)), s)
	}
}

func FuzzMayCarrySealedWhereGoDecodesIt(f *testing.F) {
	for _, s := range mayCarrySealedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d event.Issued
		if json.Unmarshal(data, &d) == nil && d.RUTSealed != "" && !mayCarrySealed(data) {
			t.Errorf("mayCarrySealed(%q) = false, and Go decodes rut_sealed %q from it", data, d.RUTSealed)
		}
	})
}

func FuzzMayCarrySealedAsToLower(f *testing.F) {
	for _, s := range mayCarrySealedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := mayCarrySealed(data), mayCarrySealedAsToLower(data); got != want {
			t.Errorf("mayCarrySealed(%q) = %v, want %v", data, got, want)
		}
	})
}

func BenchmarkMayCarrySealed(b *testing.B) {
	data := []byte(`{"ticket":"B10113-000-t1","service":"P","number":1,"day":"2026-11-28","priority":"premium",` +
		`"queued_at":"2026-11-28T12:00:02.561Z","position":1,"quoted_typical_s":300,"quoted_upper_s":600,` +
		`"token":"tk_B10113-000_1","channel":"kiosk"}`)
	b.Run("ToLower", func(b *testing.B) {
		for b.Loop() {
			_ = mayCarrySealedAsToLower(data)
		}
	})
	b.Run("fold", func(b *testing.B) {
		for b.Loop() {
			_ = mayCarrySealed(data)
		}
	})
}

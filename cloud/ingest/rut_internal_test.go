package ingest

import (
	"bytes"
	"testing"
)

// mayCarrySealedAsToLower is what Apply tested before mayCarrySealed.
func mayCarrySealedAsToLower(data []byte) bool {
	return bytes.Contains(bytes.ToLower(data), sealedField) || bytes.Contains(data, []byte(`\u`))
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

package main

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReleaseAgentArm64: scripts/release-agent.sh (make release-agent)
// cross-compiles the agent, cgo and SQLite included, for linux/arm64: the
// binary is an AArch64 ELF, and under qemu-user it answers `version` with the
// stamped version, as a box's updater requires before it trusts a release.
func TestReleaseAgentArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the agent")
	}
	if _, err := exec.LookPath("aarch64-linux-gnu-gcc"); err != nil {
		t.Skip("aarch64-linux-gnu-gcc is absent: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross (scripts/dev-services.sh does)")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../../../scripts/release-agent.sh", "9.8.7-arm", out)
	cmd.Env = append(cmd.Environ(), "ARCHES=arm64")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	bin := filepath.Join(out, "ticketero-agent-linux-arm64")
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, elf.EM_AARCH64, f.Machine)
	assert.Equal(t, elf.ELFCLASS64, f.Class)
	syms, err := f.DynamicSymbols()
	require.NoError(t, err)
	cgo := false
	for _, s := range syms {
		cgo = cgo || strings.HasPrefix(s.Name, "pthread_") || s.Name == "malloc"
	}
	assert.True(t, cgo, "a cgo build (libc linked): SQLite is in it")

	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		if qemu, err = exec.LookPath("qemu-aarch64"); err != nil {
			t.Log("qemu-user-static is absent: the arm64 binary was not run (apt-get install qemu-user-static)")
			return
		}
	}
	// -L: the arm64 glibc of libc6-arm64-cross, where a box has its own.
	v, err := exec.Command(qemu, "-L", "/usr/aarch64-linux-gnu", bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", v)
	assert.Equal(t, "9.8.7-arm", strings.TrimSpace(string(v)))
}

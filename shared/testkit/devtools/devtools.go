// Package devtools finds the tools scripts/dev-services.sh installs into the
// repository's .dev directory (npm packages pinned by scripts/<tool>/
// package-lock.json), so tests and bench commands never download anything.
package devtools

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Bin is the executable name of an npm package installed under .dev/dir:
// $env when set, else $TICKETERO_DEV_DIR/dir/node_modules/.bin/name, else
// <repository>/.dev/dir/node_modules/.bin/name. It fails, saying how to
// install it, when the file is not there.
func Bin(env, dir, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	dev := os.Getenv("TICKETERO_DEV_DIR")
	if dev == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dev = filepath.Join(root, ".dev")
	}
	bin := filepath.Join(dev, dir, "node_modules", ".bin", name)
	if _, err := os.Stat(bin); err != nil {
		return bin, fmt.Errorf("%s not installed at %s: run `make dev-services` (npm ci of scripts/%s/package-lock.json), or set %s", name, bin, dir, env)
	}
	return bin, nil
}

// RepoRoot is the nearest directory above the working directory that holds
// go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.work above the working directory")
		}
		dir = up
	}
}

// Command badagent stands for a broken agent release in the update test: it
// answers "version" like the real agent (so it passes the box's pre-flight
// check) and crashes as soon as it is asked to serve.
package main

import (
	"fmt"
	"os"
)

var version = "0.0.0"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println(version)
		return
	}
	fmt.Fprintln(os.Stderr, "badagent: panic: schema migration failed")
	os.Exit(2)
}

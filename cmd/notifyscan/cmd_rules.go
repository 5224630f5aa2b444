package main

import (
	"fmt"

	"github.com/cds-snc/notifyscan/rules"
)

func runRules(e *env, args []string) (int, error) {
	fs := newFlags(e, "rules", "", "List the detection rules.")
	if err := parse(fs, args); err != nil {
		return exitError, err
	}
	for _, r := range rules.All() {
		fmt.Fprintf(e.stdout, "%-24s %s\n", r.ID, r.Short)
	}
	return exitClean, nil
}

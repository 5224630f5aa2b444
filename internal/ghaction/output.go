package ghaction

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Output is one step output.
type Output struct{ Name, Value string }

// SetOutputs appends outputs to the step's output file (GITHUB_OUTPUT) in the
// delimited form, which holds any value.
func SetOutputs(path string, outs ...Output) error {
	var b strings.Builder
	for _, o := range outs {
		d, err := delimiter(o.Value)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", o.Name, d, o.Value, d)
	}
	return AppendFile(path, []byte(b.String()))
}

// delimiter is a random heredoc delimiter that does not occur in value.
func delimiter(value string) (string, error) {
	var r [12]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	d := "ghadelimiter_" + hex.EncodeToString(r[:])
	if strings.Contains(value, d) {
		return "", fmt.Errorf("output value holds its delimiter")
	}
	return d, nil
}

// AppendFile appends data to a file the runner reads after the step
// (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY). An empty path is not an error: the
// file is optional outside GitHub.
func AppendFile(path string, data []byte) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

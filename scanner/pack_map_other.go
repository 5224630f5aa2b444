//go:build !unix

package scanner

// mapFile is not available here: git cat-file reads every pack.
func mapFile(path string) ([]byte, func() error, error) {
	return nil, nil, errPackFormat
}

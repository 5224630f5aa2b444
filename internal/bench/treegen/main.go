// Command treegen writes a large synthetic source tree for the directory-scan
// benchmark: mixed source, config, lock, log and minified files, one large
// file, and a few keys generated at run time (never stored anywhere else).
//
//	go run ./internal/bench/treegen -out /tmp/tree -mb 300 -keys 5
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/cds-snc/notifyscan/rules"
)

var lines = []string{
	"func (s *Server) handle(w http.ResponseWriter, r *http.Request) error {\n",
	"\tif err := s.store.Put(ctx, key, value); err != nil { return fmt.Errorf(\"put: %w\", err) }\n",
	"import React, { useState, useEffect } from 'react';\n",
	"    \"integrity\": \"sha512-3f786850e387550fdab836ed7e6dc881de23001b9c1e2f7f0b6b2e1a0d9c8b7a==\",\n",
	"2024-05-01 12:00:00,123 INFO worker-3 processed batch a1b2c3d4-e5f6 in 12ms\n",
	"resource \"aws_s3_bucket\" \"data\" { bucket = \"my-bucket-prod\" }\n",
	"# -------------------------------------------------------------------------\n",
	"def send_email(self, to, template_id, personalisation=None):\n",
	"  - name: deploy-feature-branch-to-staging\n",
	"SELECT id, created_at FROM notifications WHERE service_id = $1 ORDER BY created_at;\n",
}

func main() {
	out := flag.String("out", "", "directory to create")
	mb := flag.Int("mb", 300, "total size in MiB")
	keys := flag.Int("keys", 5, "keys to plant")
	big := flag.Int("big", 64, "size of the one large file in MiB")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "treegen: -out is required")
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(7, 11))
	total := int64(*mb) << 20
	var written int64
	planted := 0
	for i := 0; written < total-int64(*big)<<20; i++ {
		dir := filepath.Join(*out, fmt.Sprintf("pkg%03d", i%200), fmt.Sprintf("sub%02d", i%17))
		ext := []string{".go", ".py", ".js", ".json", ".yaml", ".tf", ".md", ".log", ".min.js"}[i%9]
		size := 2048 + r.IntN(28<<10)
		var key string
		if planted < *keys && i%997 == 500 {
			key = "gcntfy-bench" + fmt.Sprint(planted) + "-" + rules.NewUUID() + "-" + rules.NewUUID()
			planted++
		}
		written += writeFile(filepath.Join(dir, fmt.Sprintf("f%06d%s", i, ext)), size, key, ext == ".min.js", r)
	}
	writeFile(filepath.Join(*out, "big", "dump.sql"), *big<<20, "", false, r)
	fmt.Printf("treegen: %d MiB, %d keys in %s\n", (written+int64(*big)<<20)>>20, planted, *out)
}

func writeFile(path string, size int, key string, oneLine bool, r *rand.Rand) int64 {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fail(err)
	}
	f, err := os.Create(path)
	if err != nil {
		fail(err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	n := 0
	for n < size {
		l := lines[r.IntN(len(lines))]
		if oneLine {
			l = strings.TrimSuffix(l, "\n") + ";"
		}
		if key != "" && n > size/2 {
			l = "NOTIFY_API_KEY=" + key + "\n"
			key = ""
		}
		w.WriteString(l)
		n += len(l)
	}
	if err := w.Flush(); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
	return int64(n)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "treegen:", err)
	os.Exit(1)
}

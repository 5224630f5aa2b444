package scanner

import (
	"context"
	"os"
	"testing"
)

// BenchmarkGitHistory scans the repository named by NOTIFYSCAN_BENCH_REPO
// (internal/bench/git.sh makes a large one) end to end: object listing,
// parallel cat-file readers, matching, provenance.
func BenchmarkGitHistory(b *testing.B) {
	repo := os.Getenv("NOTIFYSCAN_BENCH_REPO")
	if repo == "" {
		b.Skip("set NOTIFYSCAN_BENCH_REPO to a repository (internal/bench/git.sh builds one)")
	}
	for b.Loop() {
		res, err := ScanGit(context.Background(), repo, GitOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(res.Stats.Bytes)
		b.ReportMetric(float64(len(res.Findings)), "findings")
	}
}

package scanner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// The blob pipeline's benchmarks. They run on the repository named by
// NOTIFYSCAN_BENCH_REPO (internal/bench/git.sh builds a large one) or on a
// small synthetic history built once per run. Compare BenchmarkGitFloor
// (git reading every object once, the lower bound the history scan is
// measured against) with BenchmarkGitHistory:
//
//	go test ./scanner -run '^$' -bench 'Git(Floor|History)' -benchtime 3x

var benchRepoOnce = sync.OnceValues(func() (string, error) {
	if repo := os.Getenv("NOTIFYSCAN_BENCH_REPO"); repo != "" {
		return repo, nil
	}
	dir, err := os.MkdirTemp("", "notifyscan-bench-")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("func return error config notify key value template status queue send retry")
	var b strings.Builder
	const commits, files = 3000, 300
	content := make([]string, files)
	for i := range content {
		var f strings.Builder
		for f.Len() < 8<<10 {
			fmt.Fprintf(&f, "%s %s %d\n", words[rnd.IntN(len(words))], words[rnd.IntN(len(words))], rnd.IntN(1e6))
		}
		content[i] = f.String()
	}
	for c := range commits {
		fmt.Fprintf(&b, "commit refs/heads/main\nmark :%d\ncommitter A <a@example.org> %d +0000\ndata 6\nchange\n", c+1, 1700000000+c)
		if c > 0 {
			fmt.Fprintf(&b, "from :%d\n", c)
		}
		for range 2 {
			i := rnd.IntN(files)
			content[i] += fmt.Sprintf("%s %d\n", words[rnd.IntN(len(words))], rnd.IntN(1e6))
			if c == commits/2 && i%2 == 0 {
				content[i] += "NOTIFY_API_KEY=" + gitKey("bench") + "\n"
			}
			fmt.Fprintf(&b, "M 100644 inline src/d%d/f%d.txt\ndata %d\n%s\n", i/30, i, len(content[i]), content[i])
		}
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	if out, err := exec.Command("git", "-C", dir, "repack", "-a", "-d", "-f", "-q").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return dir, nil
})

func benchRepo(b *testing.B) string {
	b.Helper()
	needGit(b)
	repo, err := benchRepoOnce()
	if err != nil {
		b.Fatal(err)
	}
	return repo
}

// BenchmarkGitFloor is git reading every object once: the floor.
func BenchmarkGitFloor(b *testing.B) {
	repo := benchRepo(b)
	for b.Loop() {
		cmd := exec.Command("git", "-C", repo, "cat-file", "--batch-all-objects", "--batch", "--unordered")
		if err := cmd.Run(); err != nil { // stdout is /dev/null
			b.Fatal(err)
		}
	}
}

func benchHistory(b *testing.B, opts GitOptions) {
	repo := benchRepo(b)
	for b.Loop() {
		res, err := ScanGit(context.Background(), repo, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Errors) > 0 {
			b.Fatal(res.Errors[0])
		}
		b.SetBytes(res.Stats.Bytes)
		b.ReportMetric(float64(len(res.Findings)), "findings")
	}
}

// BenchmarkGitHistory is the full history scan, end to end.
func BenchmarkGitHistory(b *testing.B) { benchHistory(b, GitOptions{}) }

// BenchmarkGitHistoryNoDecode leaves out the decoders.
func BenchmarkGitHistoryNoDecode(b *testing.B) {
	benchHistory(b, GitOptions{Options: Options{NoDecode: true}})
}

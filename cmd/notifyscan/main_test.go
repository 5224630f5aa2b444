package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cds-snc/notifyscan/internal/notifytest"
	"github.com/cds-snc/notifyscan/rules"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"notifyscan": func() {
			os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script. Scripts get
// these commands besides testscript's own:
//
//	genkey VAR [NAME] [legacy]  set $VAR to a fresh key (and $VAR_SID, $VAR_SECRET, $VAR_FP, $VAR_RED)
//	expand SRC DST              copy SRC to DST with $VARIABLES expanded
//	nosecrets [FILE...]         fail if a generated secret is in stdout, stderr or the files
//	notifyapi gc|uk add|revoke|archive|count|revocations VAR [N]
//	                            act on the local Notify API ($NOTIFY_API_URL, GOV.UK: $NOTIFY_UK_API_URL)
//	                            for the key made by genkey VAR; count and revocations assert N
func TestScripts(t *testing.T) {
	gc := notifytest.New(t)
	uk := notifytest.New(t, notifytest.WithMode(notifytest.GOVUK))
	servers := map[string]*notifytest.Server{"gc": gc, "uk": uk}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Verification only ever talks to these loopback servers.
			env.Setenv("NOTIFY_API_URL", gc.URL)
			env.Setenv("NOTIFY_UK_API_URL", uk.URL)
			env.Setenv("NOTIFY_SRE_USER", gc.SREUser)
			env.Setenv("SRE_SECRET", gc.SRESecret)
			env.Setenv("GIT_AUTHOR_NAME", "Ada Tester")
			env.Setenv("GIT_AUTHOR_EMAIL", "ada@example.org")
			env.Setenv("GIT_COMMITTER_NAME", "Ada Tester")
			env.Setenv("GIT_COMMITTER_EMAIL", "ada@example.org")
			env.Setenv("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
			env.Setenv("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
			// Git's global config lives outside the work dir, which scripts scan.
			home, err := os.MkdirTemp("", "notifyscan-script-home")
			if err != nil {
				return err
			}
			env.Defer(func() { os.RemoveAll(home) })
			env.Setenv("HOME", home)
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
			return os.WriteFile(filepath.Join(home, ".gitconfig"),
				[]byte("[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"), 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"genkey":    cmdGenkey,
			"expand":    cmdExpand,
			"nosecrets": cmdNosecrets,
			"notifyapi": func(ts *testscript.TestScript, neg bool, args []string) { cmdNotifyAPI(ts, neg, args, servers) },
		},
	})
}

func cmdGenkey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 3 {
		ts.Fatalf("usage: genkey VAR [NAME] [legacy]")
	}
	name := "test_key"
	if len(args) >= 2 {
		name = args[1]
	}
	sid, secret := rules.NewUUID(), rules.NewUUID()
	raw := "gcntfy-" + name + "-" + sid + "-" + secret
	if len(args) == 3 && args[2] == "legacy" {
		raw = name + "-" + sid + "-" + secret
	}
	k, err := rules.ParseKey(raw)
	if err != nil {
		ts.Fatalf("genkey: %v", err)
	}
	v := args[0]
	ts.Setenv(v, raw)
	ts.Setenv(v+"_SID", sid)
	ts.Setenv(v+"_SECRET", secret)
	ts.Setenv(v+"_FP", k.Fingerprint())
	ts.Setenv(v+"_RED", k.Redacted())
	ts.Setenv("NOTIFYSCAN_TEST_SECRETS", strings.TrimSpace(ts.Getenv("NOTIFYSCAN_TEST_SECRETS")+" "+secret))
}

func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	data := ts.ReadFile(args[0])
	dst := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
	ts.Check(os.WriteFile(dst, []byte(os.Expand(data, ts.Getenv)), 0o644))
}

func cmdNosecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! nosecrets")
	}
	texts := map[string]string{"stdout": ts.ReadFile("stdout"), "stderr": ts.ReadFile("stderr")}
	for _, a := range args {
		texts[a] = ts.ReadFile(a)
	}
	for _, secret := range strings.Fields(ts.Getenv("NOTIFYSCAN_TEST_SECRETS")) {
		for name, text := range texts {
			// The whole secret, or any part of it past the four characters a redacted key shows.
			if strings.Contains(text, secret) || strings.Contains(text, secret[4:]) || strings.Contains(text, secret[9:]) {
				ts.Fatalf("%s holds a generated secret", name)
			}
		}
	}
}

func cmdNotifyAPI(ts *testscript.TestScript, neg bool, args []string, servers map[string]*notifytest.Server) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: notifyapi gc|uk add|revoke|archive|count|revocations VAR [N]")
	}
	s := servers[args[0]]
	if s == nil {
		ts.Fatalf("notifyapi: no server %q", args[0])
	}
	sid, secret := ts.Getenv(args[2]+"_SID"), ts.Getenv(args[2]+"_SECRET")
	if sid == "" {
		ts.Fatalf("notifyapi: no key %s (run genkey first)", args[2])
	}
	want := func() int {
		if len(args) != 4 {
			ts.Fatalf("notifyapi %s needs N", args[1])
		}
		n, err := strconv.Atoi(args[3])
		ts.Check(err)
		return n
	}
	switch args[1] {
	case "add":
		s.AddKey(sid, secret)
	case "revoke":
		s.AddKey(sid, secret)
		s.Revoke(sid, secret)
	case "archive":
		s.AddKey(sid, secret)
		s.ArchiveService(sid)
	case "count":
		if got, n := s.CountSecret(secret), want(); got != n {
			ts.Fatalf("notifyapi: %d verification requests for %s, want %d", got, args[2], n)
		}
	case "revocations":
		if got, n := s.RevokeCalls(secret), want(); got != n {
			ts.Fatalf("notifyapi: %d revocation calls for %s, want %d", got, args[2], n)
		}
	default:
		ts.Fatalf("notifyapi: unknown action %q", args[1])
	}
}

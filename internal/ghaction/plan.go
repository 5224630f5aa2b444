package ghaction

import (
	"context"
	"fmt"
	"strings"
)

// Plan is what to scan for an event.
type Plan struct {
	// Full asks for every ref's whole history. When it is false, Range
	// bounds the scan ("BASE..HEAD" with BASE an ancestor of HEAD, or for a
	// new branch "0000000000000000000000000000000000000000..HEAD": the
	// commits of HEAD on no other branch) and Commits lists what it holds.
	Full    bool
	Range   string
	Commits []string
	// What says, for the log and the summary, what is scanned and why.
	What string
}

// Nothing reports whether the event asks for no commits at all: a deleted
// branch, or a new branch that adds no commit of its own.
func (p *Plan) Nothing() bool { return !p.Full && len(p.Commits) == 0 }

// Prepare decides what an event asks to scan and fetches what the checkout
// lacks for it:
//
//   - an explicit range "BASE..HEAD" (the action's range input), for any event:
//     the commits from the merge base of BASE and HEAD to HEAD;
//   - pull_request and pull_request_target: the same, from the pull request's
//     base commit to its head commit, every commit of the pull request;
//   - push: before..after; for a new branch (before is all zeros), or a force
//     push whose old tip the remote no longer has, the commits of after that
//     are on no other branch; nothing for a deleted branch;
//   - anything else (merge_group, workflow_dispatch, schedule, ...): the whole
//     history of every branch and tag.
//
// A shallow clone is deepened as far as the plan needs. A range that cannot
// be resolved is an error that says why.
func Prepare(ctx context.Context, g *Git, ev *Event, explicitRange string) (*Plan, error) {
	if err := g.check(ctx); err != nil {
		return nil, err
	}
	if explicitRange != "" {
		base, head, ok := strings.Cut(explicitRange, "..")
		if !ok || base == "" || head == "" || strings.HasPrefix(base, "-") || strings.HasPrefix(head, "-") || strings.Contains(head, "..") {
			return nil, fmt.Errorf("range %q is not BASE..HEAD", clip(explicitRange))
		}
		baseSHA, err := g.resolve(ctx, base)
		if err != nil {
			return nil, err
		}
		headSHA, err := g.resolve(ctx, head)
		if err != nil {
			return nil, err
		}
		return g.rangePlan(ctx, baseSHA, headSHA, "range "+explicitRange)
	}
	switch ev.Name {
	case "pull_request", "pull_request_target":
		pr := ev.PR
		if pr == nil {
			return nil, fmt.Errorf("the %s event has no pull request", ev.Name)
		}
		if err := g.need(ctx, pr.HeadSHA, "pull request head", fmt.Sprintf("refs/pull/%d/head", pr.Number)); err != nil {
			return nil, err
		}
		baseRef := ""
		if pr.BaseRef != "" && !strings.HasPrefix(pr.BaseRef, "-") {
			baseRef = "refs/heads/" + pr.BaseRef
		}
		if err := g.need(ctx, pr.BaseSHA, "pull request base", baseRef); err != nil {
			return nil, err
		}
		return g.rangePlan(ctx, pr.BaseSHA, pr.HeadSHA, fmt.Sprintf("pull request #%d", pr.Number))
	case "push":
		return g.pushPlan(ctx, ev)
	}
	if err := g.complete(ctx); err != nil {
		return nil, err
	}
	return &Plan{Full: true, What: ev.Name + " event: the whole history of every branch and tag"}, nil
}

// resolve turns a revision given by a person into a commit id, fetching it
// when it is an id the checkout lacks.
func (g *Git) resolve(ctx context.Context, rev string) (string, error) {
	if isSHA(rev) {
		return rev, g.need(ctx, rev, "commit", "")
	}
	sha, err := g.run(ctx, "rev-parse", "--verify", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("cannot resolve %q to a commit in the checkout (%v): give a commit id, or fetch the branch first", clip(rev), err)
	}
	return sha, nil
}

// rangePlan plans the scan of the commits from the merge base of base and
// head to head. Both are in the object store.
func (g *Git) rangePlan(ctx context.Context, base, head, what string) (*Plan, error) {
	mb, ok, err := g.mergeBase(ctx, base, head)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("cannot resolve the %s: %s and %s have no common history", what, short(base), short(head))
	}
	commits, err := g.revList(ctx, head, mb)
	if err != nil {
		return nil, err
	}
	p := &Plan{Range: mb + ".." + head, Commits: commits}
	p.What = fmt.Sprintf("%s: %d %s from %s to %s", what, len(commits), plural(len(commits), "commit", "commits"), short(mb), short(head))
	if mb != base {
		p.What += fmt.Sprintf(" (merge base of %s and %s)", short(base), short(head))
	}
	return p, nil
}

// pushPlan plans a push: before..after, or for a new branch the commits on
// no other branch.
func (g *Git) pushPlan(ctx context.Context, ev *Event) (*Plan, error) {
	name := strings.TrimPrefix(strings.TrimPrefix(ev.Ref, "refs/heads/"), "refs/tags/")
	if ev.After == zeroSHA {
		return &Plan{What: fmt.Sprintf("push deleted %s: nothing to scan", name)}, nil
	}
	if err := g.need(ctx, ev.After, "pushed commit", ""); err != nil {
		return nil, err
	}
	if ev.Before == zeroSHA {
		return g.newBranchPlan(ctx, ev, fmt.Sprintf("push of new %s", name))
	}
	if err := g.need(ctx, ev.Before, "previous tip", ""); err != nil {
		if !ev.Forced {
			return nil, err
		}
		g.logf("the force push replaced %s, which the remote no longer has: scanning the commits on no other branch", short(ev.Before))
		return g.newBranchPlan(ctx, ev, fmt.Sprintf("force push to %s", name))
	}
	what := "push to " + name
	if ev.Forced {
		what = "force push to " + name
	}
	return g.rangePlan(ctx, ev.Before, ev.After, what)
}

// newBranchPlan plans the scan of the commits of ev.After that no other
// branch has.
func (g *Git) newBranchPlan(ctx context.Context, ev *Event, what string) (*Plan, error) {
	if err := g.complete(ctx); err != nil {
		return nil, err
	}
	out, err := g.run(ctx, "for-each-ref", "--format=%(refname) %(symref)", "refs/heads/", "refs/remotes/"+g.remote()+"/")
	if err != nil {
		return nil, err
	}
	branch := strings.TrimPrefix(ev.Ref, "refs/heads/")
	var others []string
	for _, l := range lines(out) {
		ref, symref, _ := strings.Cut(l, " ")
		if symref != "" || ref == "refs/heads/"+branch || ref == "refs/remotes/"+g.remote()+"/"+branch {
			continue
		}
		others = append(others, ref)
	}
	commits, err := g.revList(ctx, ev.After, others...)
	if err != nil {
		return nil, err
	}
	p := &Plan{Commits: commits}
	p.What = fmt.Sprintf("%s: %d %s on no other branch, up to %s", what, len(commits), plural(len(commits), "commit", "commits"), short(ev.After))
	if len(commits) == 0 {
		p.What = fmt.Sprintf("%s: no commit that is not on another branch, nothing to scan", what)
		return p, nil
	}
	// The scanner reads a range whose BASE is all zeros the same way: the
	// commits of HEAD that no other branch has.
	p.Range = zeroSHA + ".." + ev.After
	return p, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

package identity

import "testing"

func TestCan(t *testing.T) {
	m := Membership{Team: "ml", BackstageGroup: "group:default/ml", Members: []Member{
		{Subject: "user:default/alice", Role: RoleMaintainer},
		{Subject: "group:default/readers", Role: RoleViewer},
		{Subject: "user:default/dave", Role: RoleViewer},
	}}
	user := func(sub string, groups ...string) Principal {
		return Principal{Subject: sub, Kind: KindBackstageUser, Groups: groups}
	}
	tok := func(team string, verbs ...Verb) Principal {
		p := Principal{Subject: "user:default/alice", Kind: KindToken, TokenTeam: team, TokenVerbs: verbs}
		for _, v := range verbs {
			p.Admin = p.Admin || v == VerbAdmin
		}
		return p
	}
	cases := []struct {
		name string
		p    Principal
		verb Verb
		want bool
	}{
		{"maintainer manages", user("user:default/alice"), VerbManage, true},
		{"group member writes", user("user:default/bob", "group:default/ml"), VerbWrite, true},
		{"group member cannot manage", user("user:default/bob", "group:default/ml"), VerbManage, false},
		{"viewer group reads", user("user:default/carol", "group:default/readers"), VerbRead, true},
		{"viewer group cannot write", user("user:default/carol", "group:default/readers"), VerbWrite, false},
		{"highest role wins", user("user:default/dave", "group:default/ml"), VerbWrite, true},
		{"stranger reads nothing", user("user:default/eve"), VerbRead, false},
		{"refs compare case-insensitively", user("User:Default/Alice"), VerbManage, true},
		{"admin does anything", Principal{Subject: "user:default/pat", Admin: true}, VerbManage, true},
		{"token within scope", tok("ml", VerbRead, VerbWrite), VerbWrite, true},
		{"token lacks verb", tok("ml", VerbRead), VerbWrite, false},
		{"token for another team", tok("other", VerbRead, VerbWrite, VerbManage), VerbRead, false},
		{"admin token", tok("", VerbAdmin), VerbManage, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.Can(c.verb, m); got != c.want {
				t.Fatalf("Can(%s) = %v, want %v", c.verb, got, c.want)
			}
		})
	}
}

func TestCanGlobally(t *testing.T) {
	if !(Principal{Subject: "user:default/a", Kind: KindBackstageUser}).CanGlobally(VerbRead) {
		t.Error("an authenticated user cannot read the directory")
	}
	if (Principal{Subject: "user:default/a", Kind: KindBackstageUser}).CanGlobally(VerbWrite) {
		t.Error("a user can write globally")
	}
	if (Principal{Subject: "user:default/a", Kind: KindToken, TokenVerbs: []Verb{VerbWrite}}).CanGlobally(VerbRead) {
		t.Error("a write-only token can read")
	}
	if (Principal{}).CanGlobally(VerbRead) {
		t.Error("anonymous can read")
	}
}

func TestRoleInForTokens(t *testing.T) {
	p := Principal{Kind: KindToken, TokenTeam: "ml", TokenVerbs: []Verb{VerbRead, VerbWrite}}
	if r, ok := p.RoleIn(Membership{Team: "ml"}); !ok || r != RoleDeveloper {
		t.Fatalf("RoleIn = %v %v, want developer", r, ok)
	}
}

func TestValidEntityRef(t *testing.T) {
	for ref, want := range map[string]bool{
		"user:default/alice": true, "group:default/ml-research": true, "user:alice": false, "alice": false, "": false,
	} {
		if got := ValidEntityRef(ref); got != want {
			t.Errorf("ValidEntityRef(%q) = %v", ref, got)
		}
	}
}

package rules

// Status is what the Notify API said about a key, or that nobody asked.
type Status string

// The statuses a finding can carry. Unknown is never an answer about the key:
// it means the question could not be asked or answered (429, 5xx, timeouts,
// firewall pages), and it must not be reported as invalid or revoked.
const (
	StatusUnverified Status = ""         // verification was not requested
	StatusActive     Status = "active"   // the key authenticates now
	StatusRevoked    Status = "revoked"  // genuine secret, key revoked
	StatusInvalid    Status = "invalid"  // no such key on any host tried
	StatusInactive   Status = "inactive" // service archived or suspended
	StatusUnknown    Status = "unknown"  // no trustworthy answer
)

// Statuses lists every status that a verification can give, most severe first.
var Statuses = []Status{StatusActive, StatusUnknown, StatusInactive, StatusRevoked, StatusInvalid}

// Label is the status for people: "unverified" for the empty status.
func (s Status) Label() string {
	if s == StatusUnverified {
		return "unverified"
	}
	return string(s)
}

// Valid reports whether s is one of the declared statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusUnverified, StatusActive, StatusRevoked, StatusInvalid, StatusInactive, StatusUnknown:
		return true
	}
	return false
}

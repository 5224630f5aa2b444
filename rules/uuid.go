package rules

// UUIDLen is the length of a canonical UUID string (8-4-4-4-12 hex).
const UUIDLen = 36

// PairLen is the length of "<service_id>-<secret>".
const PairLen = 2*UUIDLen + 1

// lowerHex reports whether c is 0-9 or a-f. Upper-case hex never
// authenticates with Notify, so it is not part of the key alphabet.
var lowerHex = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = true
	}
	return t
}()

// pairByte is lowerHex plus '-': the alphabet of a service-id/secret pair.
var pairByte = func() (t [256]bool) {
	t = lowerHex
	t['-'] = true
	return t
}()

// IsUUID reports whether s is a canonical lowercase UUID string.
func IsUUID(s string) bool {
	if len(s) != UUIDLen {
		return false
	}
	for i := 0; i < UUIDLen; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !lowerHex[c] {
				return false
			}
		}
	}
	return true
}

// isPair reports whether b[0:PairLen] is "<uuid>-<uuid>". b must hold at
// least PairLen bytes.
func isPair(b []byte) bool {
	// The dashes first: they reject most candidates after one or two loads.
	if b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' || b[36] != '-' ||
		b[45] != '-' || b[50] != '-' || b[55] != '-' || b[60] != '-' {
		return false
	}
	for i := 0; i < PairLen; i++ {
		switch i {
		case 8, 13, 18, 23, 36, 45, 50, 55, 60:
			continue
		}
		if !lowerHex[b[i]] {
			return false
		}
	}
	return true
}
